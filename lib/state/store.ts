/**
 * The bounded task store: every task Petal knows, keyed by uuid, with the indexes that keep
 * queries fast at 100k tasks (by state, by task name, by worker) and the links between tasks
 * (children via parent_id, Petal retries via retry_of/retried_as).
 *
 * Ordering: `tasks` is a Map kept in last-update order (a touched record is deleted and re-set,
 * which moves it to the end), and `finished` does the same for ready tasks only. Both give O(1)
 * eviction of the oldest entry without any sorting.
 */
import type { TaskRecord } from "../protocol/api";
import { READY_STATES } from "../protocol/types";
import type { TaskEvent, TaskState } from "../protocol/types";
import { kwargsPairs } from "./pyliteral";
import { applyTaskEvent } from "./transitions";

export const DEFAULT_MAX_TASKS = 100_000;
/** Distinct task names remembered for taskTypes() (default bound, like Celery's task_types). */
const MAX_TASK_NAMES = 10_000;
/** Above this many children, a parent's list is not scanned for duplicates (linking is once per child). */
const CHILD_DEDUPE_LIMIT = 1_000;
/** Retry links waiting for the new task's first event (default bound). */
const MAX_PENDING_RETRY_OF = 10_000;

const SEARCH_TEXT = Symbol("petal.searchText");
const KWARGS_PAIRS = Symbol("petal.kwargsPairs");
interface Searchable {
  [SEARCH_TEXT]?: string | null;
  [KWARGS_PAIRS]?: ReadonlySet<string> | null;
}

export interface TaskStoreOptions {
  /** tasks retained; over it, finished tasks go first, oldest update first (default: 100000) */
  maxTasks?: number;
}

export class TaskStore {
  readonly maxTasks: number;
  /** tasks dropped to stay under maxTasks */
  evicted = 0;
  /** of those, tasks that were not finished (the store was full of unfinished work) */
  evictedUnfinished = 0;

  private readonly tasks = new Map<string, TaskRecord>();
  private readonly finished = new Map<string, true>();
  // Index sets hold the records themselves (mutated in place, never replaced), so a query over
  // an index needs no id lookup per row.
  private readonly byState = new Map<TaskState, Set<TaskRecord>>();
  /** keys lower-cased: Flower matches task and worker names case-insensitively */
  private readonly byName = new Map<string, Set<TaskRecord>>();
  private readonly byWorker = new Map<string, Set<TaskRecord>>();
  /** children / retries whose parent / original is not (yet) in the store */
  private readonly pendingChildren = new Map<string, string[]>();
  private readonly pendingRetries = new Map<string, string[]>();
  /** retry links announced (linkRetry) before the new task's first event: new → old */
  private readonly pendingRetryOf = new Map<string, string>();
  private readonly versions = new Map<string, number>();
  private readonly names = new Set<string>();
  private sortedNames: string[] | null = [];

  constructor(opts: TaskStoreOptions = {}) {
    this.maxTasks = Math.max(1, Math.floor(opts.maxTasks ?? DEFAULT_MAX_TASKS));
  }

  get size(): number {
    return this.tasks.size;
  }

  get(uuid: string): TaskRecord | undefined {
    return this.tasks.get(uuid);
  }

  /** Every record, least recently updated first. Records are live: do not mutate. */
  values(): IterableIterator<TaskRecord> {
    return this.tasks.values();
  }

  /** Version (ClusterState.version) at which this task last changed; 0 if unknown. */
  taskVersion(uuid: string): number {
    return this.versions.get(uuid) ?? 0;
  }

  /** Tasks in this state (live records: do not mutate). */
  tasksByState(state: TaskState): ReadonlySet<TaskRecord> | undefined {
    return this.byState.get(state);
  }

  countByState(state: TaskState): number {
    return this.byState.get(state)?.size ?? 0;
  }

  /** Tasks with this name, compared case-insensitively. */
  tasksByName(name: string): ReadonlySet<TaskRecord> | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Tasks last handled by this worker, compared case-insensitively. */
  tasksByWorker(hostname: string): ReadonlySet<TaskRecord> | undefined {
    return this.byWorker.get(hostname.toLowerCase());
  }

  /**
   * The fields Flower's unqualified search looks at (uuid, name, state, worker, args, kwargs,
   * result), lower-cased and NUL-joined so a term cannot match across two fields. Cached until
   * the task changes.
   */
  searchText(t: TaskRecord): string {
    const cached = (t as Searchable)[SEARCH_TEXT];
    if (typeof cached === "string") return cached;
    const text = `${t.uuid}\0${t.name ?? ""}\0${t.state}\0${t.worker ?? ""}\0${t.args ?? ""}\0${t.kwargs ?? ""}\0${t.result ?? ""}`.toLowerCase();
    // Only store-owned records have the (non-enumerable) slot; never add one to a copy.
    if (cached === null) (t as Searchable)[SEARCH_TEXT] = text;
    return text;
  }

  /** The task's kwargs as `key=value` pairs for `kwargs:key=value` search, cached like searchText. */
  kwargsPairs(t: TaskRecord): ReadonlySet<string> {
    const cached = (t as Searchable)[KWARGS_PAIRS];
    if (cached != null) return cached;
    const pairs = kwargsPairs(t.kwargs);
    if (cached === null) (t as Searchable)[KWARGS_PAIRS] = pairs;
    return pairs;
  }

  /** Sorted names of every task type seen (kept after their tasks are evicted, as Flower does). */
  taskTypes(): string[] {
    if (this.sortedNames === null) this.sortedNames = [...this.names].sort();
    return this.sortedNames;
  }

  /**
   * Apply one validated task event; returns the (store-owned, live) record. Evicts the oldest
   * entries when the store grows over maxTasks; `onEvict` hears each dropped uuid.
   */
  apply(ev: TaskEvent, version: number, onEvict?: (uuid: string) => void): TaskRecord {
    const prev = this.tasks.get(ev.uuid);
    let rec: TaskRecord;
    if (prev === undefined) {
      rec = applyTaskEvent(undefined, ev);
      // Hidden per-record cache slots for search: a property read is several times faster than
      // a Map lookup in a 100k-task scan; non-enumerable keeps them out of JSON, spreads, clones.
      Object.defineProperty(rec, SEARCH_TEXT, { value: null, writable: true, enumerable: false });
      Object.defineProperty(rec, KWARGS_PAIRS, { value: null, writable: true, enumerable: false });
      this.tasks.set(rec.uuid, rec);
      this.indexNew(rec, version);
    } else {
      const { state, name, worker, parent_id, retry_of } = prev;
      rec = applyTaskEvent(prev, ev);
      this.tasks.delete(rec.uuid);
      this.tasks.set(rec.uuid, rec);
      if (rec.state !== state) move(this.byState, state, rec.state, rec);
      if (rec.name !== name) this.reindexName(name, rec);
      if (rec.worker !== worker) moveKey(this.byWorker, worker, rec.worker, rec);
      if (parent_id === null && rec.parent_id !== null) this.linkChild(rec);
      if (retry_of == null && rec.retry_of != null) this.linkRetry(rec.retry_of, rec.uuid, version);
    }
    if (READY_STATES.has(rec.state)) {
      this.finished.delete(rec.uuid);
      this.finished.set(rec.uuid, true);
    }
    this.versions.set(rec.uuid, version);
    (rec as Searchable)[SEARCH_TEXT] = null;
    (rec as Searchable)[KWARGS_PAIRS] = null;
    if (this.tasks.size > this.maxTasks) this.evictOverflow(onEvict);
    return rec;
  }

  /**
   * Put records loaded from history back (after a restart): taken as they are, oldest first, and
   * skipped when the store already knows the uuid (live events win). Returns how many were added.
   */
  restore(records: Iterable<TaskRecord>, version: number): number {
    let n = 0;
    for (const rec of records) {
      if (this.tasks.has(rec.uuid)) continue;
      Object.defineProperty(rec, SEARCH_TEXT, { value: null, writable: true, enumerable: false });
      Object.defineProperty(rec, KWARGS_PAIRS, { value: null, writable: true, enumerable: false });
      this.tasks.set(rec.uuid, rec);
      this.indexNew(rec, version);
      if (READY_STATES.has(rec.state)) this.finished.set(rec.uuid, true);
      this.versions.set(rec.uuid, version);
      n++;
      if (this.tasks.size > this.maxTasks) this.evictOverflow();
    }
    return n;
  }

  /**
   * Record that `newId` re-runs `oldId` (Petal's retry button, or an event's retry_of): sets
   * new.retry_of and appends to old.retried_as. Either side may be unknown yet; the link is kept
   * until it arrives.
   */
  linkRetry(oldId: string, newId: string, version: number): void {
    if (oldId === newId) return;
    const newer = this.tasks.get(newId);
    if (newer === undefined) {
      if (this.pendingRetryOf.size >= MAX_PENDING_RETRY_OF) {
        this.pendingRetryOf.delete(this.pendingRetryOf.keys().next().value as string);
      }
      this.pendingRetryOf.set(newId, oldId);
    } else if (newer.retry_of == null) {
      newer.retry_of = oldId;
      this.versions.set(newId, version);
    }
    const old = this.tasks.get(oldId);
    if (old === undefined) {
      appendPending(this.pendingRetries, oldId, newId);
      return;
    }
    const list = (old.retried_as ??= []);
    if (!list.includes(newId)) {
      list.push(newId);
      this.versions.set(oldId, version);
    }
  }

  private indexNew(rec: TaskRecord, version: number): void {
    add(this.byState, rec.state, rec);
    if (rec.name !== null) this.reindexName(null, rec);
    if (rec.worker !== null) moveKey(this.byWorker, null, rec.worker, rec);
    const kids = this.pendingChildren.get(rec.uuid);
    if (kids !== undefined) {
      this.pendingChildren.delete(rec.uuid);
      for (const k of kids) if (!rec.children.includes(k)) rec.children.push(k);
    }
    const retries = this.pendingRetries.get(rec.uuid);
    if (retries !== undefined) {
      this.pendingRetries.delete(rec.uuid);
      rec.retried_as = retries.slice();
    }
    if (rec.parent_id !== null) this.linkChild(rec);
    const announced = this.pendingRetryOf.get(rec.uuid);
    if (announced !== undefined) {
      this.pendingRetryOf.delete(rec.uuid);
      if (rec.retry_of == null) rec.retry_of = announced;
    }
    // A record born with retry_of links now; one learning it later links in apply().
    if (rec.retry_of != null) this.linkRetry(rec.retry_of, rec.uuid, version);
  }

  private reindexName(old: string | null, rec: TaskRecord): void {
    moveKey(this.byName, old, rec.name, rec);
    const name = rec.name;
    if (name !== null && !this.names.has(name) && this.names.size < MAX_TASK_NAMES) {
      this.names.add(name);
      this.sortedNames = null;
    }
  }

  private linkChild(rec: TaskRecord): void {
    const parentId = rec.parent_id;
    if (parentId === null || parentId === rec.uuid) return;
    const parent = this.tasks.get(parentId);
    if (parent === undefined) {
      appendPending(this.pendingChildren, parentId, rec.uuid);
      return;
    }
    if (parent.children.length > CHILD_DEDUPE_LIMIT || !parent.children.includes(rec.uuid)) {
      parent.children.push(rec.uuid);
    }
  }

  private evictOverflow(onEvict?: (uuid: string) => void): void {
    while (this.tasks.size > this.maxTasks) {
      let victim: string | undefined = this.finished.keys().next().value;
      if (victim === undefined) {
        victim = this.tasks.keys().next().value as string;
        this.evictedUnfinished++;
      }
      this.remove(victim);
      this.evicted++;
      onEvict?.(victim);
    }
  }

  private remove(uuid: string): void {
    const rec = this.tasks.get(uuid);
    if (rec === undefined) return;
    this.tasks.delete(uuid);
    this.finished.delete(uuid);
    this.versions.delete(uuid);
    remove(this.byState, rec.state, rec);
    if (rec.name !== null) remove(this.byName, rec.name.toLowerCase(), rec);
    if (rec.worker !== null) remove(this.byWorker, rec.worker.toLowerCase(), rec);
    // Keep pending link tables bounded by what is retained.
    if (rec.parent_id !== null) dropPending(this.pendingChildren, rec.parent_id, uuid);
    if (rec.retry_of != null) dropPending(this.pendingRetries, rec.retry_of, uuid);
  }
}

function add<K>(index: Map<K, Set<TaskRecord>>, key: K, rec: TaskRecord): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(rec);
}

function remove<K>(index: Map<K, Set<TaskRecord>>, key: K, rec: TaskRecord): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(rec);
  if (set.size === 0) index.delete(key);
}

function move<K>(index: Map<K, Set<TaskRecord>>, from: K, to: K, rec: TaskRecord): void {
  remove(index, from, rec);
  add(index, to, rec);
}

function moveKey(index: Map<string, Set<TaskRecord>>, from: string | null, to: string | null, rec: TaskRecord): void {
  const a = from?.toLowerCase() ?? null;
  const b = to?.toLowerCase() ?? null;
  if (a === b) return;
  if (a !== null) remove(index, a, rec);
  if (b !== null) add(index, b, rec);
}

function appendPending(table: Map<string, string[]>, key: string, id: string): void {
  const list = table.get(key);
  if (list === undefined) table.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

function dropPending(table: Map<string, string[]>, key: string, id: string): void {
  const list = table.get(key);
  if (list === undefined) return;
  const i = list.indexOf(id);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) table.delete(key);
}
