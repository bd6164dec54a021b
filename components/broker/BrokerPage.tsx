"use client";

import type { BrokerPayload } from "@/lib/protocol/api";
import { useSubscription, useView } from "../realtime/hooks";
import { formatCount } from "../ui/format";
import { PageHeader, Panel } from "../ui/Panel";
import { SkeletonRows } from "../ui/Skeleton";
import { DeadLetters } from "./DeadLetters";

const TH = "px-3 text-[11px] font-medium uppercase tracking-wider text-muted whitespace-nowrap";

const STATUS_TONE: Record<BrokerPayload["status"], string> = {
  connected: "text-st-success-fg",
  reconnecting: "text-st-retry-fg",
  disconnected: "text-st-failure-fg",
};

function Priorities({ by }: { by: Record<number, number> | undefined }) {
  const entries = by ? Object.entries(by).filter(([, n]) => n > 0) : [];
  if (!entries.length) return <span className="text-faint">—</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {entries.map(([p, n]) => (
        <span key={p} className="num rounded border border-line px-1 text-[11.5px]" title={`priority ${p}: ${n} messages`}>
          p{p}: {formatCount(n)}
        </span>
      ))}
    </span>
  );
}

export function BrokerPage() {
  useSubscription({ broker: true });
  const broker = useView("broker");
  const max = Math.max(1, ...(broker?.queues.map((q) => q.messages) ?? [0]));
  return (
    <div className="flex flex-col gap-4" data-testid="broker-page">
      <PageHeader
        title="Broker"
        sub={
          broker ? (
            <span className="flex flex-wrap items-center gap-x-3">
              <span className="font-mono">{broker.url}</span>
              <span>transport {broker.transport}</span>
              <span className={STATUS_TONE[broker.status]} data-testid="broker-status">
                {broker.status}
              </span>
            </span>
          ) : (
            "Loading…"
          )
        }
      />
      <Panel title="Queues">
        {!broker ? (
          <SkeletonRows rows={3} cols={5} />
        ) : broker.queues.length === 0 ? (
          <div className="px-3 py-4 text-[12.5px] text-muted">
            {broker.status === "connected" ? "No queues yet: they appear when a task is sent or a worker consumes one." : "Queue lengths are unavailable while the broker is disconnected."}
          </div>
        ) : (
          <table className="w-full text-[13px]" data-testid="queues-table">
            <thead>
              <tr className="h-8 border-b border-line text-left">
                <th className={TH}>Queue</th>
                <th className={`${TH} text-right`}>Messages</th>
                <th className={`${TH} w-[28%]`}>
                  <span className="sr-only">Backlog</span>
                </th>
                <th className={`${TH} text-right`}>Unacked</th>
                <th className={TH}>By priority</th>
                <th className={TH}>Consumers</th>
              </tr>
            </thead>
            <tbody>
              {broker.queues.map((q) => (
                <tr key={q.name} className="h-9 border-t border-line first:border-t-0" data-testid="queue-row" data-queue={q.name}>
                  <td className="px-3 font-mono text-[12.5px] font-medium">{q.name}</td>
                  <td className={`num px-3 text-right ${q.messages ? "font-semibold" : "text-muted"}`} data-testid="queue-messages">
                    {formatCount(q.messages)}
                  </td>
                  <td className="px-3">
                    <div className="h-1.5 w-full rounded-full bg-surface-2" aria-hidden>
                      <div className="h-1.5 rounded-full bg-st-pending" style={{ width: `${(q.messages / max) * 100}%` }} />
                    </div>
                  </td>
                  <td className="num px-3 text-right text-muted">{q.unacked == null ? "—" : formatCount(q.unacked)}</td>
                  <td className="px-3">
                    <Priorities by={q.byPriority} />
                  </td>
                  <td className="px-3 text-[12px]">
                    {q.consumers.length ? (
                      <span className="text-muted" title={q.consumers.join("\n")}>
                        {q.consumers.slice(0, 3).join(", ")}
                        {q.consumers.length > 3 ? ` +${q.consumers.length - 3}` : ""}
                      </span>
                    ) : (
                      <span className="text-st-retry-fg">no consumer</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <DeadLetters />
    </div>
  );
}
