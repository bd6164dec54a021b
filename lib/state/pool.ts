/**
 * Interned strings for the task store's low-cardinality columns (task name, worker, client,
 * exchange, routing key, queue): each distinct string is kept once and a task stores a 4-byte id.
 * Ids are reference-counted, so a flood of distinct values (a misbehaving client naming every
 * task differently) costs memory only while tasks that use them are retained.
 *
 * Id 0 is null and -1 is undefined (the optional `queue` field distinguishes both); neither is
 * counted.
 */
export const NULL_ID = 0;
export const UNDEFINED_ID = -1;

export class StringPool {
  private readonly ids = new Map<string, number>();
  /** id → string (index 0: null); freed ids hold null until reused */
  private strs: (string | null)[] = [null];
  private lowers: (string | null)[] = [null];
  private refs = new Int32Array(64);
  private free: number[] = [];

  /** One more than the largest id ever handed out: the size of a per-id lookup table. */
  get capacity(): number {
    return this.strs.length;
  }

  /** Distinct strings currently held. */
  get size(): number {
    return this.ids.size;
  }

  /** Take a reference to `s`'s id (adding it when new). */
  acquire(s: string | null | undefined): number {
    if (s === null) return NULL_ID;
    if (s === undefined) return UNDEFINED_ID;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.free.length > 0 ? (this.free.pop() as number) : this.strs.length;
      if (id === this.strs.length) {
        this.strs.push(s);
        this.lowers.push(null);
      } else {
        this.strs[id] = s;
        this.lowers[id] = null;
      }
      if (id >= this.refs.length) {
        const next = new Int32Array(this.refs.length * 2);
        next.set(this.refs);
        this.refs = next;
      }
      this.ids.set(s, id);
    }
    this.refs[id]++;
    return id;
  }

  /** Drop one reference; the string is forgotten at zero. */
  release(id: number): void {
    if (id <= 0) return;
    if (--this.refs[id] > 0) return;
    this.ids.delete(this.strs[id] as string);
    this.strs[id] = null;
    this.lowers[id] = null;
    this.free.push(id);
  }

  str(id: number): string | null | undefined {
    return id < 0 ? undefined : this.strs[id];
  }

  /** Lower-cased string (cached), "" for null/undefined/freed ids. */
  lower(id: number): string {
    if (id <= 0) return "";
    let l = this.lowers[id];
    if (l === null) {
      const s = this.strs[id];
      if (s === null) return "";
      l = s.toLowerCase();
      this.lowers[id] = l;
    }
    return l;
  }

  /** Id of `s` if held, without taking a reference (NULL_ID for null, -2 when unknown). */
  peek(s: string | null): number {
    if (s === null) return NULL_ID;
    return this.ids.get(s) ?? -2;
  }

  /**
   * A per-id table: 1 where `test(lower-cased string)` holds. Ids with no string (null, freed)
   * get 0. Index with id + 0; callers check UNDEFINED_ID themselves.
   */
  matchTable(test: (lower: string, raw: string) => boolean): Uint8Array {
    const out = new Uint8Array(this.strs.length);
    for (let id = 1; id < this.strs.length; id++) {
      const s = this.strs[id];
      if (s !== null && test(this.lower(id), s)) out[id] = 1;
    }
    return out;
  }

  /**
   * Sort ranks by lower-cased string: ids whose strings compare equal case-insensitively share a
   * rank; null (id 0) and undefined rank -Infinity (nulls first ascending).
   */
  rankTable(): Float64Array {
    const live: number[] = [];
    for (let id = 1; id < this.strs.length; id++) if (this.strs[id] !== null) live.push(id);
    live.sort((a, b) => {
      const x = this.lower(a);
      const y = this.lower(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const out = new Float64Array(this.strs.length).fill(-Infinity);
    let rank = -1;
    let prev: string | null = null;
    for (const id of live) {
      const l = this.lower(id);
      if (l !== prev) rank++;
      prev = l;
      out[id] = rank;
    }
    return out;
  }
}
