import type { TaskRecord } from "@/lib/protocol/api";
import { formatClock, formatDuration, timeTooltip } from "../ui/format";
import { toneStyle } from "../ui/state";
import { timelineSteps } from "./timeline";

/** Horizontal life of a task: one node per transition, the time between them on the connectors. */
export function TaskTimeline({ task }: { task: TaskRecord }) {
  const steps = timelineSteps(task);
  return (
    <ol className="flex min-w-0 items-start overflow-x-auto pb-1" aria-label="State timeline" data-testid="task-timeline">
      {steps.map((s, i) => {
        const st = toneStyle(s.tone);
        const done = s.t != null;
        const next = steps[i + 1];
        return (
          <li key={`${s.key}${i}`} className="flex min-w-0 flex-1 items-start last:flex-none" data-step={s.key} data-done={done}>
            <div className="flex w-[92px] shrink-0 flex-col items-center text-center">
              <span
                aria-hidden
                className={`mt-1 size-3 rounded-full ${done ? st.dot : "border-2 border-dashed border-line-strong bg-transparent"}`}
              />
              <span className={`mt-1.5 text-[12px] font-medium ${done ? "" : "text-faint"}`}>{s.label}</span>
              <span className="num text-[11.5px] text-muted" title={timeTooltip(s.t)}>
                {s.t != null ? formatClock(s.t, true) : "waiting"}
              </span>
            </div>
            {next ? (
              <div className="relative mt-[9px] flex min-w-[48px] flex-1 flex-col items-center">
                <span aria-hidden className={`h-px w-full ${next.t != null ? "bg-line-strong" : "border-t border-dashed border-line-strong"}`} />
                {next.gap != null ? <span className="num mt-1 text-[11px] text-muted">+{formatDuration(next.gap)}</span> : null}
              </div>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
