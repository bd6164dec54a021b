import { WORKER_DOT } from "./state";

/** Worker liveness: dot plus word, never colour alone. */
export function WorkerStatus({ online, showLabel = true }: { online: boolean; showLabel?: boolean }) {
  const s = online ? WORKER_DOT.online : WORKER_DOT.offline;
  return (
    <span className="inline-flex items-center gap-1.5" title={s.label}>
      <span aria-hidden className={`relative inline-flex size-2 rounded-full ${s.dot}`}>
        {online ? <span className={`absolute inset-0 rounded-full ${s.dot} opacity-40 motion-safe:animate-ping [animation-duration:2.5s]`} /> : null}
      </span>
      {showLabel ? <span className={online ? "text-fg" : "text-muted"}>{s.label}</span> : <span className="sr-only">{s.label}</span>}
    </span>
  );
}
