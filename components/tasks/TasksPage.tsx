"use client";

import { useSearchParams } from "next/navigation";
import { useCallback, useMemo, useState } from "react";
import { PETAL_PREFIX } from "../realtime/prefix";
import { filtersToSearch, parseFilters, type TaskFilters } from "./query-string";
import { TaskFiltersBar } from "./TaskFilters";
import { TaskTable } from "./TaskTable";

export function TasksPage() {
  const sp = useSearchParams();
  const spKey = sp.toString();
  const filters = useMemo(() => parseFilters(new URLSearchParams(spKey)), [spKey]);
  const [total, setTotal] = useState<number | null>(null);

  // replaceState keeps the view in the URL without a navigation round-trip; Next syncs
  // useSearchParams with it.
  const onChange = useCallback((f: TaskFilters) => {
    window.history.replaceState(null, "", `${PETAL_PREFIX}/tasks${filtersToSearch(f)}`);
  }, []);
  const onSort = useCallback((sort: string) => onChange({ ...filters, sort }), [filters, onChange]);
  const filtersKey = useMemo(() => filtersToSearch({ ...filters }), [filters]);

  return (
    <div className="flex h-full min-h-[420px] flex-col gap-3" data-testid="tasks-page">
      <TaskFiltersBar filters={filters} onChange={onChange} total={total} />
      <TaskTable filters={filters} filtersKey={filtersKey} onSort={onSort} onTotal={setTotal} />
    </div>
  );
}
