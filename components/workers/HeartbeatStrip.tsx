import { formatClock, formatDuration } from "../ui/format";

/**
 * Intervals between the last heartbeats as bars: an even comb is healthy; a tall bar is a late
 * heartbeat (amber past 1.5× the announced period, red past Celery's 2× offline threshold).
 */
export function HeartbeatStrip({ beats, freq }: { beats: number[]; freq: number }) {
  if (beats.length < 2) return <div className="text-[12px] text-muted">Waiting for heartbeats…</div>;
  const gaps: { t: number; d: number }[] = [];
  for (let i = 1; i < beats.length; i++) {
    const a = beats[i - 1];
    const b = beats[i];
    if (a != null && b != null) gaps.push({ t: b, d: Math.max(0, b - a) });
  }
  const period = freq > 0 ? freq : 2;
  const max = Math.max(period * 2.2, ...gaps.map((g) => g.d));
  const late = gaps.filter((g) => g.d > period * 1.5).length;
  return (
    <div data-testid="heartbeat-strip">
      <div className="relative flex h-12 items-end gap-[2px]" role="img" aria-label={`${gaps.length} heartbeat intervals, ${late} late`}>
        <span
          aria-hidden
          className="absolute left-0 right-0 border-t border-dashed border-line-strong"
          style={{ bottom: `${(period / max) * 100}%` }}
          title={`announced period ${formatDuration(period)}`}
        />
        {gaps.map((g) => {
          const tone = g.d > period * 2 ? "bg-st-failure" : g.d > period * 1.5 ? "bg-st-retry" : "bg-st-success/70";
          return (
            <span
              key={g.t}
              className={`min-w-[3px] flex-1 rounded-t-[1px] ${tone}`}
              style={{ height: `${Math.max(6, (g.d / max) * 100)}%` }}
              title={`${formatClock(g.t)}: ${formatDuration(g.d)} after the previous heartbeat`}
            />
          );
        })}
      </div>
      <div className="mt-1 flex justify-between text-[11px] text-muted">
        <span>
          {gaps.length} intervals · period {formatDuration(period)}
        </span>
        <span className={late ? "text-st-retry-fg" : ""}>{late ? `${late} late` : "all on time"}</span>
      </div>
    </div>
  );
}
