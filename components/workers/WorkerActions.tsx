"use client";

import type { WorkerRecord } from "@/lib/protocol/api";
import { growPool, shrinkPool, shutdownWorker } from "../realtime/actions";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { useAction } from "../ui/useAction";
import { answerBody, autoscalePool, restartPool } from "./control";
import { FieldsDialog, wholeNumber } from "./FieldsDialog";
import { useFormAction } from "./useFormAction";
import { workerHref } from "./WorkersTable";

/** Header actions of the worker page: pool size, autoscale, pool restart, shutdown. */
export function WorkerActions({ worker }: { worker: WorkerRecord }) {
  const act = useAction();
  const form = useFormAction();
  const name = worker.hostname;
  const offline = worker.online ? null : "The worker is offline";
  const reason = act.disabledReason ?? offline;
  const link = { href: workerHref(name), label: "Open worker" };
  const autoscaler = worker.inspect?.stats?.autoscaler as { min?: unknown; max?: unknown } | undefined;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="worker-actions">
      <Button
        disabledReason={reason}
        onClick={() =>
          act.ask({
            id: "grow",
            title: `Grow the pool of ${name}?`,
            body: "Adds one process to its pool so it runs one more task at a time.",
            run: () => growPool(name, 1),
            success: (r) => ({ kind: "success", title: `Pool of ${name} grown`, body: answerBody(r), link }),
            failureTitle: `Could not grow the pool of ${name}`,
          })
        }
      >
        Pool grow
      </Button>
      <Button
        disabledReason={reason}
        onClick={() =>
          act.ask({
            id: "shrink",
            title: `Shrink the pool of ${name}?`,
            body: "Removes one idle process from its pool. Refused if every process is busy.",
            run: () => shrinkPool(name, 1),
            success: (r) => ({ kind: "success", title: `Pool of ${name} shrunk`, body: answerBody(r), link }),
            failureTitle: `Could not shrink the pool of ${name}`,
          })
        }
      >
        Pool shrink
      </Button>
      <Button
        disabledReason={reason}
        onClick={() =>
          form.open({
            title: `Autoscale ${name}`,
            note: "The pool grows up to max processes under load and shrinks back to min when idle. Refused by workers started without --autoscale.",
            fields: [
              { key: "min", label: "Min processes", initial: typeof autoscaler?.min === "number" ? String(autoscaler.min) : "", validate: wholeNumber },
              {
                key: "max",
                label: "Max processes",
                initial: typeof autoscaler?.max === "number" ? String(autoscaler.max) : "",
                validate: wholeNumber,
              },
            ],
            run: (v) => autoscalePool(name, Number(v.min), Number(v.max)),
            successTitle: (v) => `Autoscale of ${name}: ${v.min}–${v.max}`,
            failureTitle: `Could not autoscale ${name}`,
          })
        }
      >
        Autoscale…
      </Button>
      <Button
        disabledReason={reason}
        onClick={() =>
          act.ask({
            id: "restart",
            title: `Restart the pool of ${name}?`,
            body: "Replaces every pool process once its current task ends. Needs worker_pool_restarts enabled on Celery workers.",
            run: () => restartPool(name),
            success: (r) => ({ kind: "success", title: `Pool of ${name} restarting`, body: answerBody(r), link }),
            failureTitle: `Could not restart the pool of ${name}`,
          })
        }
      >
        Pool restart
      </Button>
      <Button
        variant="danger"
        disabledReason={reason}
        onClick={() =>
          act.ask({
            id: "shutdown",
            title: `Shut down ${name}?`,
            body: "The worker finishes nothing new and exits (warm shutdown). Someone has to start it again; Petal cannot.",
            run: () => shutdownWorker(name),
            success: (r) => ({ kind: "success", title: `Shutdown sent to ${name}`, body: r.message, link }),
            failureTitle: `Could not shut down ${name}`,
          })
        }
      >
        Shutdown
      </Button>
      <ConfirmDialog open={!!act.pending} title={act.pending?.title ?? ""} busy={act.busy} danger={act.pending?.id === "shutdown"} onConfirm={() => void act.confirm()} onClose={act.close}>
        {act.pending?.body}
      </ConfirmDialog>
      <FieldsDialog open={!!form.spec} title={form.spec?.title ?? ""} note={form.spec?.note} fields={form.spec?.fields ?? []} busy={form.busy} onSubmit={form.submit} onClose={form.close} />
    </div>
  );
}
