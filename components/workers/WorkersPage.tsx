"use client";

import { useState } from "react";
import { NoWorkers } from "../dashboard/NoWorkers";
import { useSubscription, useView } from "../realtime/hooks";
import { FilterInput } from "../ui/FilterInput";
import { PageHeader, Panel } from "../ui/Panel";
import { WorkersTable } from "./WorkersTable";

export function WorkersPage() {
  useSubscription({ workers: true });
  const workers = useView("workers");
  const [filter, setFilter] = useState("");
  const online = workers?.filter((w) => w.online).length ?? 0;
  return (
    <div className="flex flex-col gap-3" data-testid="workers-page">
      <PageHeader
        title="Workers"
        sub={workers ? `${online} online · ${workers.length - online} offline` : "Loading…"}
        actions={
          <FilterInput value={filter} onChange={setFilter} placeholder="Filter by hostname" label="Filter workers" width={280} />
        }
      />
      <Panel>{workers && workers.length === 0 ? <NoWorkers /> : <WorkersTable workers={workers} filter={filter} />}</Panel>
    </div>
  );
}
