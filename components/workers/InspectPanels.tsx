"use client";

/** The rest of a worker's inspect answer: freshness, registered task names, queues, stats, conf. */
import { useState } from "react";
import type { WorkerRecord } from "@/lib/protocol/api";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { Age } from "../ui/Time";
import { useAction } from "../ui/useAction";
import { answerBody, addConsumer, cancelConsumer, setTimeLimit } from "./control";
import { FieldsDialog, optionalSeconds } from "./FieldsDialog";
import { RateLimitDialog } from "./RateLimitDialog";
import { useFormAction } from "./useFormAction";

const SMALL = "h-6 px-2 text-[11.5px]";

/** "inspected 2 s ago", and which calls did not answer in time. */
export function InspectStatus({ worker }: { worker: WorkerRecord }) {
  const i = worker.inspect;
  if (!i) return <span className="text-faint">{worker.online ? "asking the worker…" : "not inspected (offline)"}</span>;
  return (
    <span className="flex flex-wrap items-center gap-x-3" data-testid="inspect-status">
      <span>
        inspected <Age t={i.timestamp} intervalMs={1000} testId="inspect-age" className="text-fg" />
      </span>
      {i.missing.length ? (
        <span className="text-st-retry-fg" data-testid="inspect-partial">
          partial answer: {i.missing.join(", ")} did not reply within 1 s
        </span>
      ) : null}
    </span>
  );
}

export function RegisteredPanel({ worker }: { worker: WorkerRecord }) {
  const act = useAction();
  const form = useFormAction();
  const [rateFor, setRateFor] = useState<string | null>(null);
  const names = worker.inspect?.registered;
  const reason = act.disabledReason ?? (worker.online ? null : "The worker is offline");
  const w = worker.hostname;
  if (!names) return <div className="px-3 py-3 text-[12.5px] text-faint">No answer yet.</div>;
  if (names.length === 0) return <div className="px-3 py-3 text-[12.5px] text-muted">No task names registered.</div>;
  return (
    <>
      <ul className="max-h-[320px] divide-y divide-line overflow-auto" data-testid="inspect-registered">
        {names.map((raw) => {
          // Celery may append "[rate_limit=…]" info to the name; actions take the bare name.
          const name = raw.split(" ")[0] ?? raw;
          return (
            <li key={raw} className="flex items-center gap-2 px-3 py-1 text-[12.5px]">
              <span className="min-w-0 flex-1 truncate font-mono text-[12px]" title={raw}>
                {raw}
              </span>
              <Button className={SMALL} variant="ghost" disabledReason={reason} onClick={() => setRateFor(name)}>
                Rate limit…
              </Button>
              <Button
                className={SMALL}
                variant="ghost"
                disabledReason={reason}
                onClick={() =>
                  form.open({
                    title: `Time limits of ${name} on ${w}`,
                    note: "Soft raises SoftTimeLimitExceeded inside the task; hard kills it. Empty leaves a limit unset.",
                    fields: [
                      { key: "soft", label: "Soft (s)", placeholder: "e.g. 30", validate: optionalSeconds },
                      { key: "hard", label: "Hard (s)", placeholder: "e.g. 60", validate: optionalSeconds },
                    ],
                    run: (v) => setTimeLimit(name, w, v.soft ? Number(v.soft) : undefined, v.hard ? Number(v.hard) : undefined),
                    successTitle: (v) => `Time limits of ${name}: soft ${v.soft || "—"} s, hard ${v.hard || "—"} s`,
                    failureTitle: `Could not set the time limits of ${name}`,
                  })
                }
              >
                Time limit…
              </Button>
            </li>
          );
        })}
      </ul>
      <RateLimitDialog worker={w} taskName={rateFor} onClose={() => setRateFor(null)} />
      <FieldsDialog open={!!form.spec} title={form.spec?.title ?? ""} note={form.spec?.note} fields={form.spec?.fields ?? []} busy={form.busy} onSubmit={form.submit} onClose={form.close} />
    </>
  );
}

/** Queue names kombu accepts here: no spaces, bounded length. */
const QUEUE_RE = /^[\w.:@-]{1,200}$/;

export function QueuesPanel({ worker }: { worker: WorkerRecord }) {
  const act = useAction();
  const [queue, setQueue] = useState("");
  const w = worker.hostname;
  const qs = worker.inspect?.active_queues;
  const reason = act.disabledReason ?? (worker.online ? null : "The worker is offline");
  const valid = QUEUE_RE.test(queue.trim());
  return (
    <div data-testid="inspect-queues">
      {qs ? (
        qs.length ? (
          <ul className="divide-y divide-line">
            {qs.map((q) => (
              <li key={q.name} className="flex items-center gap-2 px-3 py-1 text-[12.5px]">
                <span className="min-w-0 flex-1 truncate font-mono text-[12px]">{q.name}</span>
                <span className="truncate text-[11.5px] text-faint">{q.exchange?.type ?? ""}</span>
                <Button
                  className={SMALL}
                  variant="ghost"
                  disabledReason={reason}
                  onClick={() =>
                    act.ask({
                      id: "cancel",
                      title: `Stop ${w} consuming from ${q.name}?`,
                      body: "Tasks already prefetched still run; new ones in this queue wait for other consumers.",
                      run: () => cancelConsumer(w, q.name),
                      success: (r) => ({ kind: "success", title: `${w} no longer consumes ${q.name}`, body: answerBody(r) }),
                      failureTitle: `Could not cancel the consumer of ${q.name}`,
                    })
                  }
                >
                  Cancel consumer
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <div className="px-3 py-3 text-[12.5px] text-muted">Consumes no queue.</div>
        )
      ) : (
        <div className="px-3 py-3 text-[12.5px] text-faint">No answer yet.</div>
      )}
      <form
        className="flex gap-2 border-t border-line px-3 py-2"
        onSubmit={(e) => {
          e.preventDefault();
          const name = queue.trim();
          if (!valid) return;
          act.ask({
            id: "add",
            title: `Make ${w} consume from ${name}?`,
            body: "The worker declares the queue if needed and starts taking its tasks.",
            run: () => addConsumer(w, name),
            success: (r) => ({ kind: "success", title: `${w} consumes ${name}`, body: answerBody(r) }),
            failureTitle: `Could not add a consumer for ${name}`,
            onDone: () => setQueue(""),
          });
        }}
      >
        <input
          value={queue}
          onChange={(e) => setQueue(e.target.value)}
          placeholder="queue name"
          aria-label="Queue to consume"
          disabled={!!reason}
          title={reason ?? undefined}
          className="h-7 min-w-0 flex-1 rounded-md border border-line bg-page px-2 font-mono text-[12.5px] text-fg outline-none focus:border-accent disabled:opacity-45"
        />
        <Button type="submit" className="h-7" disabledReason={reason} disabled={!valid}>
          Add consumer
        </Button>
      </form>
      <ConfirmDialog open={!!act.pending} title={act.pending?.title ?? ""} busy={act.busy} danger={act.pending?.id === "cancel"} onConfirm={() => void act.confirm()} onClose={act.close}>
        {act.pending?.body}
      </ConfirmDialog>
    </div>
  );
}
