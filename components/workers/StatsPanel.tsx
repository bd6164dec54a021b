"use client";

/** The worker's inspect stats (pool, prefetch, uptime, memory, broker) and its conf, collapsible. */
import type { ReactNode } from "react";
import { Field } from "../tasks/TaskFields";
import { formatCount, formatDuration } from "../ui/format";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const show = (v: unknown): string => (v === undefined || v === null ? "—" : typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v));

/** ru_maxrss is in kilobytes on Linux (Celery passes getrusage through). */
function kb(v: unknown): string {
  if (typeof v !== "number") return "—";
  return v >= 1024 * 1024 ? `${(v / 1024 / 1024).toFixed(1)} GB` : v >= 1024 ? `${(v / 1024).toFixed(1)} MB` : `${v} kB`;
}

export function StatsPanel({ stats }: { stats: Obj | undefined }) {
  if (!stats) return <div className="px-3 py-3 text-[12.5px] text-faint">No answer yet.</div>;
  const pool = obj(stats.pool);
  const broker = obj(stats.broker);
  const rusage = obj(stats.rusage);
  const total = obj(stats.total);
  const autoscaler = obj(stats.autoscaler);
  const procs = Array.isArray(pool?.processes) ? (pool.processes as unknown[]) : null;
  const rows: [string, ReactNode][] = [
    ["Autoscale", autoscaler ? `${show(autoscaler.min)}–${show(autoscaler.max)} processes` : "off"],
    ["Max concurrency", <span className="num">{show(pool?.["max-concurrency"])}</span>],
    ["Processes", procs ? <span className="num" title={procs.join(", ")}>{procs.length}</span> : "—"],
    ["Prefetch count", <span className="num">{show(stats.prefetch_count)}</span>],
    ["Uptime", typeof stats.uptime === "number" ? formatDuration(stats.uptime) : "—"],
    ["Max RSS", kb(rusage?.maxrss)],
    ["Broker", broker ? `${show(broker.transport)}://${show(broker.hostname)}${broker.port ? `:${show(broker.port)}` : ""}` : "—"],
    ["Tasks run", total ? <span className="num" title={Object.entries(total).map(([k, n]) => `${k}: ${show(n)}`).join("\n")}>{formatCount(Object.values(total).reduce<number>((a, n) => a + (typeof n === "number" ? n : 0), 0))}</span> : "—"],
  ];
  return (
    <dl className="divide-y divide-line/60 px-3 py-1" data-testid="inspect-stats">
      {rows.map(([k, v]) => (
        <Field key={k} label={k}>
          {v}
        </Field>
      ))}
    </dl>
  );
}

export function ConfPanel({ conf }: { conf: Obj | undefined }) {
  if (!conf) return <div className="px-3 py-3 text-[12.5px] text-faint">No answer yet.</div>;
  const entries = Object.entries(conf).sort(([a], [b]) => a.localeCompare(b));
  return (
    <details className="px-3 py-2 text-[12.5px]" data-testid="inspect-conf">
      <summary className="cursor-pointer text-muted">
        <span className="num text-fg">{entries.length}</span> setting{entries.length === 1 ? "" : "s"} changed from Celery&apos;s defaults
      </summary>
      <dl className="mt-2 grid grid-cols-[minmax(0,1fr)_minmax(0,1.3fr)] gap-x-3 gap-y-0.5 font-mono text-[11.5px]">
        {entries.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="truncate text-muted" title={k}>
              {k}
            </dt>
            <dd className="truncate" title={show(v)}>
              {show(v)}
            </dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
