"use client";

/** Requests a worker holds right now, from its own inspect replies: active, reserved, scheduled, revoked. */
import Link from "next/link";
import type { ReactNode } from "react";
import type { InspectRequest, InspectScheduled, WorkerRecord } from "@/lib/protocol/api";
import { revokeTask } from "../realtime/actions";
import { taskHref } from "../tasks/links";
import { Button } from "../ui/Button";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { CopyId } from "../ui/Copy";
import { Panel } from "../ui/Panel";
import { Age } from "../ui/Time";
import { useAction } from "../ui/useAction";

const ROW = "grid grid-cols-[minmax(0,1.2fr)_84px_minmax(0,1fr)_150px_auto] items-center gap-3 px-3 py-1.5 text-[13px]";

function argsText(r: InspectRequest): string {
  const a = typeof r.args === "string" ? r.args : r.args === undefined ? "" : JSON.stringify(r.args);
  const k = typeof r.kwargs === "string" ? r.kwargs : r.kwargs === undefined ? "" : JSON.stringify(r.kwargs);
  return [a, k && k !== "{}" ? k : ""].filter(Boolean).join(" ");
}

/** Celery's time_start is a wall clock in some pools and monotonic in others: only show plausible ones. */
const wallClock = (t: number | null | undefined): number | null => (typeof t === "number" && t > 1e9 ? t : null);

function RequestRow({ r, when, action }: { r: InspectRequest; when: ReactNode; action: ReactNode }) {
  return (
    <li className={ROW} data-testid="inspect-request" data-task-id={r.id}>
      <Link href={taskHref(r.id)} className="truncate font-medium hover:text-accent-fg hover:underline">
        {r.name}
      </Link>
      <CopyId value={r.id} className="text-muted" />
      <span className="truncate font-mono text-[12px] text-muted" title={argsText(r)}>
        {argsText(r)}
      </span>
      <span className="truncate text-right text-[12px] text-muted">{when}</span>
      <span className="text-right">{action}</span>
    </li>
  );
}

function List({ empty, children, count }: { empty: string; children: ReactNode; count: number }) {
  if (count === 0) return <div className="px-3 py-3 text-[12.5px] text-muted">{empty}</div>;
  return <ul className="divide-y divide-line">{children}</ul>;
}

const unknown = <div className="px-3 py-3 text-[12.5px] text-faint">No answer yet.</div>;

export function InspectRequests({ worker }: { worker: WorkerRecord }) {
  const act = useAction();
  const i = worker.inspect;
  const reason = act.disabledReason ?? (worker.online ? null : "The worker is offline");
  const revoke = (r: InspectRequest, terminate: boolean) =>
    act.ask({
      id: terminate ? "terminate" : "revoke",
      title: terminate ? `Terminate ${r.name} (${r.id.slice(0, 8)})?` : `Revoke ${r.name} (${r.id.slice(0, 8)})?`,
      body: terminate
        ? "Sends SIGTERM to the process running it; the task ends as REVOKED. Work it had done is not undone."
        : "Every worker discards it when its turn comes; it never runs.",
      run: () => revokeTask(r.id, terminate, "SIGTERM"),
      success: (res) => ({ kind: "success", title: terminate ? "Terminate sent" : "Revoked", body: res.message, link: { href: taskHref(r.id), label: "Open task" } }),
      failureTitle: `Could not ${terminate ? "terminate" : "revoke"} ${r.id}`,
    });
  const revokeBtn = (r: InspectRequest, terminate: boolean) => (
    <Button variant={terminate ? "danger" : "default"} className="h-6 px-2 text-[11.5px]" disabledReason={reason} onClick={() => revoke(r, terminate)}>
      {terminate ? "Terminate" : "Revoke"}
    </Button>
  );
  const sched: InspectScheduled[] = i?.scheduled ?? [];
  return (
    <>
      <Panel title={`Active (inspect)${i?.active ? ` · ${i.active.length}` : ""}`} testId="inspect-active">
        {i?.active ? (
          <List count={i.active.length} empty="Nothing running.">
            {i.active.map((r) => (
              <RequestRow key={r.id} r={r} when={wallClock(r.time_start) ? <>started <Age t={wallClock(r.time_start)} intervalMs={1000} /></> : `pid ${r.worker_pid ?? "—"}`} action={revokeBtn(r, true)} />
            ))}
          </List>
        ) : (
          unknown
        )}
      </Panel>
      <div className="grid grid-cols-1 gap-4 2xl:grid-cols-2">
        <Panel title={`Reserved${i?.reserved ? ` · ${i.reserved.length}` : ""}`} testId="inspect-reserved">
          {i?.reserved ? (
            <List count={i.reserved.length} empty="No prefetched tasks waiting.">
              {i.reserved.map((r) => (
                <RequestRow key={r.id} r={r} when={r.delivery_info?.routing_key ?? ""} action={revokeBtn(r, false)} />
              ))}
            </List>
          ) : (
            unknown
          )}
        </Panel>
        <Panel title={`Scheduled${i?.scheduled ? ` · ${sched.length}` : ""}`} testId="inspect-scheduled">
          {i?.scheduled ? (
            <List count={sched.length} empty="No tasks waiting for an eta.">
              {sched.map((s) => (
                <RequestRow key={s.request.id} r={s.request} when={s.eta ? <span title={s.eta}>eta {new Date(s.eta).toLocaleTimeString()}</span> : "eta —"} action={revokeBtn(s.request, false)} />
              ))}
            </List>
          ) : (
            unknown
          )}
        </Panel>
      </div>
      <ConfirmDialog open={!!act.pending} title={act.pending?.title ?? ""} busy={act.busy} danger={act.pending?.id === "terminate"} onConfirm={() => void act.confirm()} onClose={act.close}>
        {act.pending?.body}
      </ConfirmDialog>
    </>
  );
}

export function RevokedList({ ids }: { ids: string[] | undefined }) {
  if (!ids) return unknown;
  if (ids.length === 0) return <div className="px-3 py-3 text-[12.5px] text-muted">No revoked ids held by this worker.</div>;
  return (
    <details className="px-3 py-2 text-[12.5px]" data-testid="inspect-revoked">
      <summary className="cursor-pointer text-muted">
        <span className="num text-fg">{ids.length}</span> revoked id{ids.length === 1 ? "" : "s"} remembered
      </summary>
      <ul className="mt-1 max-h-48 overflow-auto font-mono text-[12px]">
        {ids.map((id) => (
          <li key={id}>
            <Link href={taskHref(id)} className="hover:text-accent-fg hover:underline">
              {id}
            </Link>
          </li>
        ))}
      </ul>
    </details>
  );
}
