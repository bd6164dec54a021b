import Link from "next/link";
import type { ReactNode } from "react";
import { type TaskRecord, taskWorker } from "@/lib/protocol/api";
import { CopyId } from "../ui/Copy";
import { formatCount, formatLocal, timeTooltip } from "../ui/format";
import { Age, Duration } from "../ui/Time";
import { workerHref } from "../workers/WorkersTable";
import { taskHref } from "./links";

export function Field({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="grid grid-cols-[112px_minmax(0,1fr)] items-baseline gap-x-3 py-[5px]" data-testid={testId}>
      <dt className="text-[12px] text-muted">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

const none = <span className="text-faint">—</span>;

function TaskLink({ id, self }: { id: string | null | undefined; self?: string }) {
  if (!id) return none;
  if (id === self) return <span className="text-muted">this task</span>;
  return (
    <Link href={taskHref(id)} className="font-mono text-[12px] text-accent-fg hover:underline" title={id}>
      {id}
    </Link>
  );
}

function At({ t }: { t: number | null }) {
  if (t == null) return none;
  return (
    <span className="flex flex-wrap items-baseline gap-x-2">
      <time className="num" title={timeTooltip(t)}>
        {formatLocal(t)}
      </time>
      <Age t={t} intervalMs={1000} className="text-[11.5px] text-muted" />
    </span>
  );
}

function Text({ v, mono = false }: { v: string | number | null | undefined; mono?: boolean }) {
  if (v == null || v === "") return none;
  return <span className={mono ? "font-mono text-[12px]" : ""}>{v}</span>;
}

/** Everything Flower shows about a task, plus Petal's extras, as label/value lists. */
export function TaskDetails({ t }: { t: TaskRecord }) {
  const worker = taskWorker(t);
  return (
    <dl className="divide-y divide-line/60" data-testid="task-details">
      <Field label="Worker">
        {worker ? (
          <Link href={workerHref(worker)} className="text-accent-fg hover:underline">
            {worker}
          </Link>
        ) : (
          none
        )}
      </Field>
      <Field label="Runtime">
        <Duration s={t.runtime} />
      </Field>
      <Field label="Retries">
        <span className="num">{formatCount(t.retries)}</span>
      </Field>
      <Field label="ETA">
        <Text v={t.eta} mono />
      </Field>
      <Field label="Expires">
        <Text v={t.expires} mono />
      </Field>
      <Field label="Queue">
        <Text v={t.queue} mono />
      </Field>
      <Field label="Exchange">
        <Text v={t.exchange === "" ? "(default)" : t.exchange} mono />
      </Field>
      <Field label="Routing key">
        <Text v={t.routing_key} mono />
      </Field>
      <Field label="Client">
        <Text v={t.client} mono />
      </Field>
      <Field label="Clock">
        <span className="num">{t.clock}</span>
      </Field>
      {t.state === "REVOKED" ? (
        <Field label="Revoke">
          {[t.terminated ? "terminated" : null, t.expired ? "expired" : null, t.signum != null ? `signal ${t.signum}` : null]
            .filter(Boolean)
            .join(", ") || "before it ran"}
        </Field>
      ) : null}
    </dl>
  );
}

export function TaskTimes({ t }: { t: TaskRecord }) {
  const rows: [string, number | null][] = [
    ["Sent", t.sent],
    ["Received", t.received],
    ["Started", t.started],
    ["Succeeded", t.succeeded],
    ["Failed", t.failed],
    ["Retried", t.retried],
    ["Revoked", t.revoked],
    ["Rejected", t.rejected],
    ["Last event", t.timestamp],
  ];
  return (
    <dl className="divide-y divide-line/60" data-testid="task-times">
      {rows.map(([label, v]) => (
        <Field key={label} label={label}>
          <At t={v} />
        </Field>
      ))}
    </dl>
  );
}

export function TaskRelations({ t, retriedAs }: { t: TaskRecord; retriedAs: string[] }) {
  return (
    <dl className="divide-y divide-line/60" data-testid="task-relations">
      <Field label="UUID">
        <CopyId value={t.uuid} full />
      </Field>
      <Field label="Root">
        <TaskLink id={t.root_id} self={t.uuid} />
      </Field>
      <Field label="Parent">
        <TaskLink id={t.parent_id} />
      </Field>
      <Field label="Children">
        {t.children.length ? (
          <ul className="flex flex-col gap-0.5">
            {t.children.map((c) => (
              <li key={c}>
                <TaskLink id={c} />
              </li>
            ))}
          </ul>
        ) : (
          none
        )}
      </Field>
      <Field label="Retry of">
        <TaskLink id={t.retry_of} />
      </Field>
      <Field label="Retried as">
        {retriedAs.length ? (
          <ul className="flex flex-col gap-0.5">
            {retriedAs.map((c) => (
              <li key={c}>
                <TaskLink id={c} />
              </li>
            ))}
          </ul>
        ) : (
          none
        )}
      </Field>
    </dl>
  );
}
