"use client";

import type { ReactNode } from "react";
import { useConfig, useConnection, useView } from "../realtime/hooks";
import type { ConnectionStatus } from "../realtime/store";
import { formatCount, formatPercent } from "../ui/format";
import { ThemeToggle } from "./ThemeToggle";

const BADGE: Record<ConnectionStatus, { label: string; dot: string; text: string; title: string }> = {
  live: { label: "live", dot: "bg-st-success", text: "text-st-success-fg", title: "Receiving live updates" },
  connecting: { label: "connecting", dot: "bg-st-pending", text: "text-muted", title: "Connecting to the Petal server" },
  reconnecting: {
    label: "reconnecting",
    dot: "bg-st-retry",
    text: "text-st-retry-fg",
    title: "Lost the connection to the Petal server; retrying",
  },
  "broker-down": {
    label: "broker disconnected",
    dot: "bg-st-failure",
    text: "text-st-failure-fg",
    title: "The server is up but lost its broker; events are not arriving",
  },
};

export function ConnectionBadge() {
  const status = useConnection();
  const b = BADGE[status];
  return (
    <span
      data-testid="connection-badge"
      data-status={status}
      title={b.title}
      className={`inline-flex h-6 items-center gap-1.5 rounded-full border border-line px-2 text-[11.5px] font-medium ${b.text}`}
    >
      <span aria-hidden className={`size-1.5 rounded-full ${b.dot} ${status === "live" ? "" : "motion-safe:animate-pulse"}`} />
      {b.label}
    </span>
  );
}

function Metric({ label, children, title, testId }: { label: string; children: ReactNode; title?: string; testId?: string }) {
  return (
    <div className="flex items-baseline gap-1.5 whitespace-nowrap" title={title} data-testid={testId}>
      <span className="text-[11px] text-muted">{label}</span>
      <span className="num text-[13px] font-semibold">{children}</span>
    </div>
  );
}

/** Cluster totals always in view: the first thing an operator reads. */
export function TopBar() {
  const ov = useView("overview");
  const config = useConfig();
  const broker = useView("broker");
  const url = broker?.url ?? config?.broker ?? "";
  const dash = <span className="text-faint">—</span>;
  const rate = ov?.failure_rate ?? 0;
  return (
    <header className="flex h-12 shrink-0 items-center gap-5 border-b border-line bg-surface px-4" data-testid="top-bar">
      <div className="flex min-w-0 flex-1 items-center gap-5 overflow-hidden">
        <Metric label="workers" title="Workers online / known" testId="top-workers">
          {ov ? (
            <>
              {formatCount(ov.workers_online)}
              <span className="font-normal text-muted">/{formatCount(ov.workers_total)}</span>
            </>
          ) : (
            dash
          )}
        </Metric>
        <Metric label="active" title="Tasks running now" testId="top-active">
          {ov ? <span className={ov.active ? "text-st-started-fg" : ""}>{formatCount(ov.active)}</span> : dash}
        </Metric>
        <Metric label="queued" title="Waiting to start (PENDING or RECEIVED)">
          {ov ? formatCount(ov.queued) : dash}
        </Metric>
        <span aria-hidden className="h-5 w-px bg-line" />
        <Metric label="succeeded/min" title="Succeeded in the last 60 s" testId="top-succeeded">
          {ov ? <span className="text-st-success-fg">{formatCount(ov.last_minute.succeeded)}</span> : dash}
        </Metric>
        <Metric label="failed/min" title="Failed in the last 60 s" testId="top-failed">
          {ov ? <span className={ov.last_minute.failed ? "text-st-failure-fg" : ""}>{formatCount(ov.last_minute.failed)}</span> : dash}
        </Metric>
        <Metric label="failure rate" title="failed / (succeeded + failed), last 60 s" testId="top-failure-rate">
          {ov ? <span className={rate >= 0.05 ? "text-st-failure-fg" : rate > 0 ? "text-st-retry-fg" : ""}>{formatPercent(rate)}</span> : dash}
        </Metric>
      </div>
      <div className="flex shrink-0 items-center gap-3">
        {url ? (
          <span className="hidden max-w-[260px] truncate font-mono text-[11.5px] text-muted lg:inline" title={`Broker: ${url}`} data-testid="broker-url">
            {url}
          </span>
        ) : null}
        <ConnectionBadge />
        <ThemeToggle />
      </div>
    </header>
  );
}
