/**
 * `Cursor`: a TaskRecord view of one task-store slot (getters/setters over the columns), so the
 * reducer in transitions.ts runs unchanged on the columns without copying a record in and out.
 */
import type { TaskRecord } from "../protocol/api";
import type { TaskState } from "../protocol/types";
import type { Columns, Extra } from "./columns";
import * as col from "./columns";

// Module-local copies: an imported binding can compile to a getter call per read (CommonJS interop).
const F_ARGS_UP = col.F_ARGS_UP;
const F_KWARGS_UP = col.F_KWARGS_UP;
const F_RESULT_UP = col.F_RESULT_UP;
const F_ROOT_SELF = col.F_ROOT_SELF;
const STATE_CODE = col.STATE_CODE;
const STATE_OF = col.STATE_OF;

const nn = (v: number): number | null => (v !== v ? null : v);

/** A live TaskRecord view of one slot: reads and writes go to the columns. Move it with `slot`. */
export class Cursor implements TaskRecord {
  slot = 0;
  constructor(private readonly c: Columns) {}

  get uuid(): string {
    return this.c.uuid[this.slot] as string;
  }
  get state(): TaskState {
    return STATE_OF[this.c.state[this.slot]];
  }
  set state(v: TaskState) {
    this.c.state[this.slot] = STATE_CODE[v];
  }
  get name(): string | null {
    return this.c.pool.str(this.c.name[this.slot]) ?? null;
  }
  set name(v: string | null) {
    this.c.setId(this.c.name, this.slot, v);
  }
  get worker(): string | null {
    return this.c.pool.str(this.c.worker[this.slot]) ?? null;
  }
  set worker(v: string | null) {
    this.c.setId(this.c.worker, this.slot, v);
  }
  get client(): string | null {
    return this.c.pool.str(this.c.client[this.slot]) ?? null;
  }
  set client(v: string | null) {
    this.c.setId(this.c.client, this.slot, v);
  }
  get exchange(): string | null {
    return this.c.pool.str(this.c.exchange[this.slot]) ?? null;
  }
  set exchange(v: string | null) {
    this.c.setId(this.c.exchange, this.slot, v);
  }
  get routing_key(): string | null {
    return this.c.pool.str(this.c.routing_key[this.slot]) ?? null;
  }
  set routing_key(v: string | null) {
    this.c.setId(this.c.routing_key, this.slot, v);
  }
  get queue(): string | null | undefined {
    return this.c.pool.str(this.c.queue[this.slot]);
  }
  set queue(v: string | null | undefined) {
    this.c.setId(this.c.queue, this.slot, v);
  }
  get args(): string | null {
    return this.c.args[this.slot];
  }
  set args(v: string | null) {
    this.c.setText(this.c.args, F_ARGS_UP, this.slot, v);
  }
  get kwargs(): string | null {
    return this.c.kwargs[this.slot];
  }
  set kwargs(v: string | null) {
    this.c.setText(this.c.kwargs, F_KWARGS_UP, this.slot, v);
  }
  get result(): string | null {
    return this.c.result[this.slot];
  }
  set result(v: string | null) {
    this.c.setText(this.c.result, F_RESULT_UP, this.slot, v);
  }
  get sent(): number | null {
    return nn(this.c.sent[this.slot]);
  }
  set sent(v: number | null) {
    this.c.sent[this.slot] = v ?? NaN;
  }
  get received(): number | null {
    return nn(this.c.received[this.slot]);
  }
  set received(v: number | null) {
    this.c.received[this.slot] = v ?? NaN;
  }
  get started(): number | null {
    return nn(this.c.started[this.slot]);
  }
  set started(v: number | null) {
    this.c.started[this.slot] = v ?? NaN;
  }
  get succeeded(): number | null {
    return nn(this.c.succeeded[this.slot]);
  }
  set succeeded(v: number | null) {
    this.c.succeeded[this.slot] = v ?? NaN;
  }
  get failed(): number | null {
    return nn(this.c.failed[this.slot]);
  }
  set failed(v: number | null) {
    this.c.failed[this.slot] = v ?? NaN;
  }
  get retried(): number | null {
    return nn(this.c.retried[this.slot]);
  }
  set retried(v: number | null) {
    this.c.retried[this.slot] = v ?? NaN;
  }
  get revoked(): number | null {
    return nn(this.c.revoked[this.slot]);
  }
  set revoked(v: number | null) {
    this.c.revoked[this.slot] = v ?? NaN;
  }
  get rejected(): number | null {
    return nn(this.c.rejected[this.slot]);
  }
  set rejected(v: number | null) {
    this.c.rejected[this.slot] = v ?? NaN;
  }
  get timestamp(): number | null {
    return nn(this.c.timestamp[this.slot]);
  }
  set timestamp(v: number | null) {
    this.c.timestamp[this.slot] = v ?? NaN;
  }
  get runtime(): number | null {
    return nn(this.c.runtime[this.slot]);
  }
  set runtime(v: number | null) {
    this.c.runtime[this.slot] = v ?? NaN;
  }
  get clock(): number {
    return this.c.clock[this.slot];
  }
  set clock(v: number) {
    this.c.clock[this.slot] = v;
  }
  get retries(): number {
    return this.c.retries[this.slot];
  }
  set retries(v: number) {
    this.c.retries[this.slot] = Math.min(v, 0x7fffffff);
  }
  get root_id(): string | null {
    return this.c.rootId(this.slot);
  }
  set root_id(v: string | null) {
    const c = this.c;
    const s = this.slot;
    if (v !== null && v === c.uuid[s]) {
      c.flags[s] |= F_ROOT_SELF;
      const e = c.extra[s];
      if (e !== null) e.root_id = null;
      return;
    }
    c.flags[s] &= ~F_ROOT_SELF;
    if (v !== null) c.ex(s).root_id = v;
    else if (c.extra[s] !== null) (c.extra[s] as Extra).root_id = null;
  }
  get eta(): string | null {
    return this.c.extra[this.slot]?.eta ?? null;
  }
  set eta(v: string | null) {
    if (v !== null || this.c.extra[this.slot] !== null) this.c.ex(this.slot).eta = v;
  }
  get expires(): string | null {
    return this.c.extra[this.slot]?.expires ?? null;
  }
  set expires(v: string | null) {
    if (v !== null || this.c.extra[this.slot] !== null) this.c.ex(this.slot).expires = v;
  }
  get exception(): string | null {
    return this.c.extra[this.slot]?.exception ?? null;
  }
  set exception(v: string | null) {
    if (v !== null || this.c.extra[this.slot] !== null) this.c.ex(this.slot).exception = this.c.canon(v);
  }
  get traceback(): string | null {
    return this.c.extra[this.slot]?.traceback ?? null;
  }
  set traceback(v: string | null) {
    if (v !== null || this.c.extra[this.slot] !== null) this.c.ex(this.slot).traceback = this.c.canon(v);
  }
  get parent_id(): string | null {
    return this.c.extra[this.slot]?.parent_id ?? null;
  }
  set parent_id(v: string | null) {
    if (v !== null || this.c.extra[this.slot] !== null) this.c.ex(this.slot).parent_id = v;
  }
  get children(): string[] {
    return this.c.extra[this.slot]?.children ?? [];
  }
  set children(v: string[]) {
    if (v.length > 0 || this.c.extra[this.slot] !== null) this.c.ex(this.slot).children = v.slice();
  }
  get retry_of(): string | null | undefined {
    return this.c.extra[this.slot]?.retry_of;
  }
  set retry_of(v: string | null | undefined) {
    if (v !== undefined || this.c.extra[this.slot] !== null) this.c.ex(this.slot).retry_of = v;
  }
  get retried_as(): string[] | undefined {
    return this.c.extra[this.slot]?.retried_as;
  }
  set retried_as(v: string[] | undefined) {
    if (v !== undefined || this.c.extra[this.slot] !== null) this.c.ex(this.slot).retried_as = v?.slice();
  }
  get terminated(): boolean | undefined {
    return this.c.extra[this.slot]?.terminated;
  }
  set terminated(v: boolean | undefined) {
    if (v !== undefined || this.c.extra[this.slot] !== null) this.c.ex(this.slot).terminated = v;
  }
  get expired(): boolean | undefined {
    return this.c.extra[this.slot]?.expired;
  }
  set expired(v: boolean | undefined) {
    if (v !== undefined || this.c.extra[this.slot] !== null) this.c.ex(this.slot).expired = v;
  }
  get signum(): number | null | undefined {
    return this.c.extra[this.slot]?.signum;
  }
  set signum(v: number | null | undefined) {
    if (v !== undefined || this.c.extra[this.slot] !== null) this.c.ex(this.slot).signum = v;
  }
}
