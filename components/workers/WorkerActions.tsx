"use client";

import type { WorkerRecord } from "@/lib/protocol/api";
import { growPool, shrinkPool, shutdownWorker } from "../realtime/actions";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { useAction } from "../ui/useAction";
import { workerHref } from "./WorkersTable";

export function WorkerActions({ worker }: { worker: WorkerRecord }) {
  const act = useAction();
  const name = worker.hostname;
  const offline = worker.online ? null : "The worker is offline";
  const reason = act.disabledReason ?? offline;
  const link = { href: workerHref(name), label: "Open worker" };
  return (
    <div className="flex items-center gap-2" data-testid="worker-actions">
      <Button
        disabledReason={reason}
        onClick={() =>
          act.ask({
            id: "grow",
            title: `Grow the pool of ${name}?`,
            body: "Adds one process to its pool so it runs one more task at a time.",
            run: () => growPool(name, 1),
            success: (r) => ({ kind: "success", title: `Pool of ${name} grown`, body: r.message, link }),
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
            success: (r) => ({ kind: "success", title: `Pool of ${name} shrunk`, body: r.message, link }),
            failureTitle: `Could not shrink the pool of ${name}`,
          })
        }
      >
        Pool shrink
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
    </div>
  );
}
