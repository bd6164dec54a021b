"use client";

import { useCallback, useEffect, useState } from "react";
import { apiUrl } from "../realtime/prefix";
import { Button } from "../ui/Button";
import { Panel } from "../ui/Panel";
import { SkeletonRows } from "../ui/Skeleton";
import { Age } from "../ui/Time";

interface DeadLetter {
  at: number;
  queue: string;
  reason: string;
  /** the refusing worker; null when the transport dropped it before any worker saw it */
  worker: string | null;
  raw: string;
}

/** How many dead letters the page loads (default: 50). */
const LIMIT = 50;

function parse(body: unknown): { total: number; list: DeadLetter[] } | null {
  if (typeof body !== "object" || body === null) return null;
  const b = body as { total?: unknown; dead_letters?: unknown };
  if (typeof b.total !== "number" || !Array.isArray(b.dead_letters)) return null;
  const list: DeadLetter[] = [];
  for (const d of b.dead_letters) {
    if (typeof d !== "object" || d === null) continue;
    const x = d as Record<string, unknown>;
    list.push({
      at: typeof x.at === "number" ? x.at : 0,
      queue: typeof x.queue === "string" ? x.queue : "?",
      reason: typeof x.reason === "string" ? x.reason : "",
      worker: typeof x.worker === "string" ? x.worker : null,
      raw: typeof x.raw === "string" ? x.raw : JSON.stringify(x.raw ?? null),
    });
  }
  return { total: b.total, list };
}

/**
 * Messages workers (in any process sharing the broker) could not parse. They are rare and not part of the live feed, so this loads
 * on open and on demand instead of polling.
 */
export function DeadLetters() {
  const [data, setData] = useState<{ total: number; list: DeadLetter[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      const res = await fetch(apiUrl(`/api/dead-letters?limit=${LIMIT}`), { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const parsed = parse(await res.json());
      if (!parsed) throw new Error("unexpected response");
      setData(parsed);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Panel
      title={`Dead letters${data ? ` (${data.total})` : ""}`}
      actions={
        <Button variant="ghost" onClick={() => void load()}>
          Refresh
        </Button>
      }
      testId="dead-letters"
    >
      {error ? (
        <div className="px-3 py-3 text-[12.5px] text-st-failure-fg">Could not load dead letters: {error}</div>
      ) : !data ? (
        <SkeletonRows rows={2} cols={3} />
      ) : data.list.length === 0 ? (
        <div className="flex items-center gap-2 px-3 py-4 text-[12.5px] text-muted">
          <span aria-hidden className="text-st-success-fg">✓</span> None: every message was understood.
        </div>
      ) : (
        <ul className="divide-y divide-line">
          {data.list.map((d, i) => (
            <li key={`${d.at}-${i}`} className="px-3 py-1.5">
              <button type="button" className="grid w-full grid-cols-[120px_140px_minmax(0,1fr)] gap-3 text-left text-[12.5px]" onClick={() => setOpen(open === i ? null : i)} aria-expanded={open === i}>
                <Age t={d.at} intervalMs={1000} className="text-muted" />
                <span className="truncate font-mono text-[12px]">{d.queue}</span>
                <span className="truncate text-st-failure-fg" title={d.worker ? `refused by ${d.worker}` : undefined}>
                  {d.reason}
                </span>
              </button>
              {open === i && d.worker ? <div className="mt-1 text-[12px] text-muted">Refused by <span className="font-mono">{d.worker}</span></div> : null}
              {open === i ? (
                <pre className="mt-1.5 max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-md border border-line bg-surface-2 p-2 font-mono text-[11.5px]">
                  {d.raw}
                </pre>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
