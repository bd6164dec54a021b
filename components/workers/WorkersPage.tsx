"use client";

import { useState } from "react";
import { NoWorkers } from "../dashboard/NoWorkers";
import { useSubscription, useView } from "../realtime/hooks";
import { IconSearch } from "../ui/icons";
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
          <label className="relative flex h-8 w-[280px] items-center">
            <span className="pointer-events-none absolute left-2.5 text-faint">
              <IconSearch />
            </span>
            <input
              data-search
              type="search"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              placeholder="Filter by hostname"
              aria-label="Filter workers"
              className="h-8 w-full rounded-md border border-line bg-surface pl-8 pr-2 text-[12.5px] outline-none focus:border-accent"
            />
          </label>
        }
      />
      <Panel>{workers && workers.length === 0 ? <NoWorkers /> : <WorkersTable workers={workers} filter={filter} />}</Panel>
    </div>
  );
}
