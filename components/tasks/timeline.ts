/** The task's life as ordered steps, and which actions make sense in its state. Pure and tested. */
import type { TaskRecord } from "@/lib/protocol/api";
import type { TaskState } from "@/lib/protocol/types";
import type { Tone } from "../ui/state";

export interface Step {
  key: "sent" | "received" | "started" | "succeeded" | "failed" | "retried" | "revoked" | "rejected";
  label: string;
  tone: Tone;
  /** unix seconds; null = not (yet) happened */
  t: number | null;
  /** seconds since the previous step that happened */
  gap: number | null;
}

const STEP_DEFS: { key: Step["key"]; label: string; tone: Tone }[] = [
  { key: "sent", label: "Sent", tone: "pending" },
  { key: "received", label: "Received", tone: "pending" },
  { key: "started", label: "Started", tone: "started" },
  { key: "retried", label: "Retried", tone: "retry" },
  { key: "succeeded", label: "Succeeded", tone: "success" },
  { key: "failed", label: "Failed", tone: "failure" },
  { key: "revoked", label: "Revoked", tone: "revoked" },
  { key: "rejected", label: "Rejected", tone: "rejected" },
];

const FINAL_KEYS = new Set<Step["key"]>(["succeeded", "failed", "revoked", "rejected"]);

/**
 * Steps that happened, in time order, with the gap from the one before. While the task is not
 * finished the next expected steps follow as placeholders (t = null), so the timeline shows
 * where it is waiting.
 */
export function timelineSteps(t: TaskRecord): Step[] {
  const happened: Step[] = [];
  for (const d of STEP_DEFS) {
    const at = t[d.key];
    if (typeof at === "number") happened.push({ ...d, t: at, gap: null });
  }
  happened.sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
  for (let i = 1; i < happened.length; i++) {
    const prev = happened[i - 1]?.t;
    const cur = happened[i];
    if (cur && prev != null && cur.t != null) cur.gap = Math.max(0, cur.t - prev);
  }
  const finished = happened.some((s) => FINAL_KEYS.has(s.key));
  if (finished) return happened;
  const have = new Set(happened.map((s) => s.key));
  const pending: Step[] = [];
  for (const key of ["received", "started"] as const) {
    if (!have.has(key)) {
      const d = STEP_DEFS.find((x) => x.key === key);
      if (d) pending.push({ ...d, t: null, gap: null });
    }
  }
  pending.push({ key: "succeeded", label: "Finished", tone: "pending", t: null, gap: null });
  return [...happened, ...pending];
}

export interface TaskActions {
  revoke: boolean;
  terminate: boolean;
  retry: boolean;
}

const FINISHED: ReadonlySet<TaskState> = new Set(["SUCCESS", "FAILURE", "REVOKED", "REJECTED"]);

/** Revoke until it finishes; terminate only while it runs; retry once it finished. */
export function availableActions(state: TaskState): TaskActions {
  const finished = FINISHED.has(state);
  return { revoke: !finished, terminate: state === "STARTED", retry: finished };
}
