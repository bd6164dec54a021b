/**
 * The task list on the wire, small enough for 10k events/s (issue #4: ≤ 200 KB/s per tab).
 *
 * A list row carries only what the table and the dashboard's failure list show, as an array in
 * ROW_COLUMNS order (no repeated keys), with reprs cut at REPR_MAX characters; the detail page
 * gets the whole record through the `task` view. Each message carries only the rows the browser
 * does not already hold at their current version, plus the uuid order when it moved; the
 * browser rebuilds the page from its previous one (components/realtime/task-rows.ts mirrors
 * these types: keep the two in step).
 */
import type { TaskPage, TaskRecord } from "../../lib/protocol/api";
import type { TaskPageDelta, WireRow } from "../../lib/protocol/wire";

export type { TaskPageDelta, WireRow };

export const ROW_COLUMNS = [
  "uuid",
  "name",
  "state",
  "received",
  "started",
  "failed",
  "timestamp",
  "runtime",
  "retries",
  "worker",
  "args",
  "kwargs",
  "result",
  "exception",
] as const;


/** Longest repr a list row carries, characters (default: 200); the table truncates far sooner. */
export const REPR_MAX = 200;

/**
 * One task-list message. `whole`: `rows` is the page, in order (no earlier page needed). Else
 * the browser takes its last page's rows, in `ids` order when given (else the same order), and
 * replaces those listed in `rows`.
 */

function cut(s: string | null | undefined): string | null {
  if (typeof s !== "string") return null;
  return s.length > REPR_MAX ? s.slice(0, REPR_MAX) + "…" : s;
}

/** Unix seconds to the millisecond: enough for the table, 3-5 characters shorter each. */
function ms(t: number | null | undefined): number | null {
  return typeof t === "number" ? Math.round(t * 1000) / 1000 : null;
}

export function toWireRow(t: TaskRecord): WireRow {
  return [
    t.uuid,
    t.name ?? null,
    t.state,
    ms(t.received),
    ms(t.started),
    ms(t.failed),
    ms(t.timestamp),
    t.runtime ?? null,
    t.retries ?? 0,
    t.worker ?? null,
    cut(t.args),
    cut(t.kwargs),
    cut(t.result),
    cut(t.exception),
  ];
}

/**
 * What one socket was last sent for its task view: uuid → version, and the order. Reset
 * whenever the browser drops its copy (snapshot, new question, resync).
 */
export class SentPage {
  private versions = new Map<string, number>();
  private order: string[] = [];
  private total = -1;
  private offset = -1;
  private has = false;

  reset(): void {
    this.versions.clear();
    this.order = [];
    this.has = false;
    this.total = -1;
    this.offset = -1;
  }

  /**
   * The delta from what was sent to `page`, or null when the browser already shows exactly it.
   * `version(uuid)` moves whenever that task changes.
   */
  diff(page: TaskPage, version: (uuid: string) => number): TaskPageDelta | null {
    const base = this.has;
    const rows: WireRow[] = [];
    const versions = new Map<string, number>();
    const order: string[] = new Array<string>(page.rows.length);
    let sameOrder = base && page.rows.length === this.order.length;
    for (let i = 0; i < page.rows.length; i++) {
      const t = page.rows[i];
      const v = version(t.uuid);
      order[i] = t.uuid;
      versions.set(t.uuid, v);
      if (sameOrder && this.order[i] !== t.uuid) sameOrder = false;
      if (!base || this.versions.get(t.uuid) !== v) rows.push(toWireRow(t));
    }
    if (base && sameOrder && rows.length === 0 && page.total === this.total && page.offset === this.offset) return null;
    this.versions = versions;
    this.order = order;
    this.total = page.total;
    this.offset = page.offset;
    this.has = true;
    // Every row changed (typical at the top of a busy list): the rows are the order.
    const whole = !base || rows.length === order.length;
    const delta: TaskPageDelta = { whole, total: page.total, offset: page.offset, rows };
    if (!whole && !sameOrder) delta.ids = order;
    return delta;
  }
}
