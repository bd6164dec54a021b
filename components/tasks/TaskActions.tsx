"use client";

import { useEffect, useMemo, useState } from "react";
import type { TaskRecord } from "@/lib/protocol/api";
import { checkRetry, retryTask, revokeTask } from "../realtime/actions";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { useAction } from "../ui/useAction";
import { taskHref } from "./links";
import { retryBlockedReason } from "./retry";
import { availableActions } from "./timeline";

function label(t: TaskRecord): string {
  return `${t.name ?? "task"} [${t.uuid.slice(0, 8)}]`;
}

/** Revoke / Terminate / Retry, each shown only when it applies. */
export function TaskActions({ task, onRetried }: { task: TaskRecord; onRetried: (newId: string) => void }) {
  const a = availableActions(task.state);
  const act = useAction();
  const name = label(task);
  const link = { href: taskHref(task.uuid), label: "Open task" };
  const localBlock = useMemo(
    () => (a.retry ? retryBlockedReason({ name: task.name, args: task.args, kwargs: task.kwargs }) : null),
    [a.retry, task.name, task.args, task.kwargs],
  );
  // The reprs do not parse here, but the server may have the real arguments (result backend):
  // ask it once per task and state before disabling the button.
  const [server, setServer] = useState<{ key: string; reason: string | null } | null>(null);
  const key = `${task.uuid}:${task.state}`;
  useEffect(() => {
    if (localBlock === null) return;
    let live = true;
    void checkRetry(task.uuid).then((r) => {
      if (live && r) setServer({ key, reason: r.retryable ? null : `Cannot retry: ${r.reason ?? "the server refused"}` });
    });
    return () => {
      live = false;
    };
  }, [localBlock, task.uuid, key]);
  const retryBlocked = localBlock !== null && server?.key === key ? server.reason : localBlock;

  return (
    <div className="flex items-center gap-2" data-testid="task-actions">
      {a.revoke ? (
        <Button
          variant="default"
          disabledReason={act.disabledReason}
          onClick={() =>
            act.ask({
              id: "revoke",
              title: `Revoke ${name}?`,
              body: "Workers will skip it if it has not started yet. A running task keeps running (use Terminate to stop it).",
              run: () => revokeTask(task.uuid),
              success: (r) => ({ kind: "success", title: `Revoked ${name}`, body: r.message, link }),
              failureTitle: `Could not revoke ${name}`,
            })
          }
        >
          Revoke
        </Button>
      ) : null}
      {a.terminate ? (
        <Button
          variant="danger"
          disabledReason={act.disabledReason}
          onClick={() =>
            act.ask({
              id: "terminate",
              title: `Terminate ${name}?`,
              body: `Revokes it and sends SIGTERM to the process running it on ${task.worker ?? "its worker"}. Work in progress is lost.`,
              run: () => revokeTask(task.uuid, true, "SIGTERM"),
              success: (r) => ({ kind: "success", title: `Terminated ${name}`, body: r.message, link }),
              failureTitle: `Could not terminate ${name}`,
            })
          }
        >
          Terminate
        </Button>
      ) : null}
      {a.retry ? (
        <Button
          variant="primary"
          disabledReason={act.disabledReason ?? retryBlocked}
          onClick={() =>
            act.ask({
              id: "retry",
              title: `Retry ${name}?`,
              body: `Sends a new task with the same name, args and kwargs${task.queue ? ` to queue ${task.queue}` : ""}. The new task gets its own id.`,
              run: () => retryTask(task.uuid),
              success: (r) => ({
                kind: "success",
                title: `Retried ${name}`,
                body: `New task ${r.value}`,
                link: { href: taskHref(r.value), label: "Open the new task" },
              }),
              failureTitle: `Could not retry ${name}`,
              onDone: onRetried,
            })
          }
        >
          Retry
        </Button>
      ) : null}
      <ConfirmDialog
        open={!!act.pending}
        title={act.pending?.title ?? ""}
        busy={act.busy}
        danger={act.pending?.id !== "retry"}
        onConfirm={() => void act.confirm()}
        onClose={act.close}
      >
        {act.pending?.body}
      </ConfirmDialog>
    </div>
  );
}
