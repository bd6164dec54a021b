"use client";

import { useEffect, useRef, useState } from "react";
import { TASK_STATES } from "@/lib/protocol/types";
import { useRealtime, useSubscription, useView } from "../realtime/hooks";
import { takeSearchFocusRequest } from "../shell/focus";
import { Kbd } from "../ui/Empty";
import { IconSearch } from "../ui/icons";
import { Picker } from "../ui/Picker";
import { stateStyle } from "../ui/state";
import { RANGES, hasFilters, toggle, type Range, type TaskFilters } from "./query-string";

/** Typing pauses this long before the search goes to the server, ms (default: 250). */
const SEARCH_DEBOUNCE_MS = 250;

function StateChip({ state, on, onClick }: { state: string; on: boolean; onClick: () => void }) {
  const st = stateStyle(state);
  return (
    <button
      type="button"
      aria-pressed={on}
      onClick={onClick}
      data-testid="state-chip"
      data-state={state}
      className={`inline-flex h-7 items-center gap-1.5 rounded-md border px-2 text-[11.5px] font-medium tracking-wide ${
        on ? `${st.badge} ring-1 ring-inset border-transparent` : "border-line text-muted hover:border-line-strong hover:text-fg"
      }`}
    >
      <span aria-hidden className={`size-1.5 rounded-full ${st.dot}`} />
      <span className={st.struck && on ? "line-through" : ""}>{state}</span>
    </button>
  );
}

/** Workers for the picker: subscribed only while the picker is open (the list can be long). */
function WorkerPicker({ selected, onChange }: { selected: string[]; onChange: (v: string[]) => void }) {
  const [open, setOpen] = useState(false);
  useSubscription(open ? { workers: true } : {});
  const workers = useView("workers");
  const names = workers?.map((w) => w.hostname) ?? [];
  return <Picker label="Worker" options={names} selected={selected} onChange={onChange} onOpenChange={setOpen} loading={open && !workers} testId="worker-picker" />;
}

export function TaskFiltersBar({
  filters,
  onChange,
  total,
}: {
  filters: TaskFilters;
  onChange: (f: TaskFilters) => void;
  total: number | null;
}) {
  const ov = useView("overview");
  const refused = useRealtime((s) => s.subscribeError);
  const [text, setText] = useState(filters.search);
  const input = useRef<HTMLInputElement>(null);
  const latest = useRef(filters);
  latest.current = filters;

  // Back/forward or a chip link changed the URL: show that search.
  useEffect(() => setText(filters.search), [filters.search]);
  useEffect(() => {
    if (takeSearchFocusRequest()) input.current?.focus();
  }, []);
  useEffect(() => {
    if (text === latest.current.search) return;
    const t = setTimeout(() => onChange({ ...latest.current, search: text }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [text, onChange]);

  return (
    <div className="flex flex-col gap-2" data-testid="task-filters">
      <div className="flex flex-wrap items-center gap-2">
        <label className="relative flex h-8 min-w-[280px] flex-1 items-center">
          <span className="pointer-events-none absolute left-2.5 text-faint">
            <IconSearch />
          </span>
          <input
            ref={input}
            data-search
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") onChange({ ...filters, search: text });
            }}
            placeholder="Search: text, name:proj.add, state:FAILURE, worker:w1, args:…, kwargs:x=1, result:…  (AND / OR)"
            aria-label="Search tasks"
            aria-invalid={!!refused}
            className="aria-[invalid=true]:border-st-failure h-8 w-full rounded-md border border-line bg-surface pl-8 pr-10 font-mono text-[12.5px] outline-none placeholder:font-sans placeholder:text-faint focus:border-accent"
          />
          <span className="pointer-events-none absolute right-2.5">
            <Kbd>/</Kbd>
          </span>
        </label>
        <Picker
          label="Task"
          options={ov?.task_names ?? []}
          selected={filters.names}
          onChange={(names) => onChange({ ...filters, names })}
          loading={!ov}
          testId="name-picker"
        />
        <WorkerPicker selected={filters.workers} onChange={(workers) => onChange({ ...filters, workers })} />
        <div role="radiogroup" aria-label="Received within" className="inline-flex h-7 items-center rounded-md border border-line p-px">
          {[null, ...RANGES].map((r: Range | null) => (
            <button
              key={r ?? "all"}
              type="button"
              role="radio"
              aria-checked={filters.range === r}
              onClick={() => onChange({ ...filters, range: r })}
              className={`num h-full rounded-[5px] px-2 text-[11.5px] ${filters.range === r ? "bg-surface-2 font-medium text-fg" : "text-muted hover:text-fg"}`}
              title={r ? `Received in the last ${r}` : "Any time"}
            >
              {r ?? "all"}
            </button>
          ))}
        </div>
      </div>
      {refused ? (
        <div role="alert" data-testid="search-error" className="text-[12px] text-st-failure-fg">
          {refused.replace(/^invalid task query: /, "Search not understood: ")} · showing the previous results
        </div>
      ) : null}
      <div className="flex flex-wrap items-center gap-1.5">
        {TASK_STATES.map((s) => (
          <StateChip key={s} state={s} on={filters.states.includes(s)} onClick={() => onChange({ ...filters, states: toggle(filters.states, s) })} />
        ))}
        {hasFilters(filters) ? (
          <button
            type="button"
            onClick={() => onChange({ ...filters, states: [], names: [], workers: [], search: "", range: null })}
            className="ml-1 h-7 rounded-md px-2 text-[12px] text-muted hover:bg-surface-2 hover:text-fg"
          >
            Clear filters
          </button>
        ) : null}
        <span className="num ml-auto text-[12px] text-muted" data-testid="task-total">
          {total == null ? "" : `${total.toLocaleString("en-US")} ${total === 1 ? "task" : "tasks"}`}
        </span>
      </div>
    </div>
  );
}
