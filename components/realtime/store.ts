/**
 * The tab's view of the cluster: the last snapshot plus every diff since, merged by sequence
 * number. Framework-free so it can be unit-tested; React reads it via useSyncExternalStore, so
 * every read returns the same object until something actually changed.
 */
import type {
  BrokerPayload,
  ChartsPayload,
  Overview,
  RealtimeUpdate,
  TaskPage,
  TaskRecord,
  WorkerRecord,
} from "@/lib/protocol/api";
import type { ViewKey } from "./subscription";
import { decodeUpdate, type WireUpdate } from "@/lib/protocol/wire";

export interface ViewData {
  overview?: Overview;
  workers?: WorkerRecord[];
  tasks?: TaskPage;
  /** null = the server does not know this task (yet) */
  task?: TaskRecord | null;
  /** null = the server does not know this worker */
  worker?: WorkerRecord | null;
  broker?: BrokerPayload;
  charts?: ChartsPayload;
}

export interface ServerConfig {
  readOnly: boolean;
  broker: string;
  version: string;
}

/** Socket state; `broker-down` = socket fine but the server lost its broker. */
export type ConnectionStatus = "connecting" | "live" | "reconnecting" | "broker-down";

export interface RealtimeState {
  data: ViewData;
  config: ServerConfig | null;
  socketConnected: boolean;
  /** true once the socket connected at least once (first load vs. reconnect) */
  everConnected: boolean;
  /** seq of the last applied update; null before the first snapshot */
  seq: number | null;
  /** local ms of the last applied update */
  lastUpdateAt: number | null;
  /** a subscription change was sent and its snapshot has not arrived yet */
  awaitingSnapshot: boolean;
  /** why the server refused the last subscription (e.g. bad search syntax); it keeps the previous one */
  subscribeError: string | null;
}

export type ApplyResult = "applied" | "gap" | "stale";

const VIEW_KEYS: readonly ViewKey[] = ["overview", "workers", "tasks", "task", "worker", "broker", "charts"];
/** Parts that depend on what was asked, so a diff from before a resubscribe may answer the old question. */
const QUESTION_KEYS: ReadonlySet<ViewKey> = new Set(["tasks", "task", "worker", "charts"]);

/**
 * If the snapshot for a new subscription never comes (a server that answers with diffs only),
 * stop holding back diffs after this long, ms (default: 3000).
 */
export const SNAPSHOT_WAIT_MS = 3000;

const INITIAL: RealtimeState = {
  data: {},
  config: null,
  socketConnected: false,
  everConnected: false,
  seq: null,
  lastUpdateAt: null,
  awaitingSnapshot: false,
  subscribeError: null,
};

export function connectionStatus(s: RealtimeState): ConnectionStatus {
  if (!s.socketConnected) return s.everConnected ? "reconnecting" : "connecting";
  const broker = s.data.broker?.status;
  if (broker && broker !== "connected") return "broker-down";
  return "live";
}

export class RealtimeStore {
  private state: RealtimeState = INITIAL;
  private listeners = new Set<() => void>();
  private awaitSince = 0;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): RealtimeState => this.state;

  /**
   * Merge one server message. A snapshot replaces the whole view; a diff replaces the parts it
   * carries. A seq jump still applies (each part is whole, so nothing half-merged) but reports
   * "gap" so the caller asks for a resync; older or repeated seqs are dropped.
   */
  apply(w: WireUpdate | RealtimeUpdate, localNowMs: number): ApplyResult {
    const s = this.state;
    const held = s.awaitingSnapshot && !w.full && localNowMs - this.awaitSince < SNAPSHOT_WAIT_MS;
    // Deltas answering the previous question are dropped before decoding: they build on rows
    // this tab already let go.
    const wire: WireUpdate = held ? { ...w, taskRows: undefined, chartsDelta: undefined } : w;
    const { update: u, ok } = decodeUpdate(wire, s.data);
    if (u.full) {
      const data: ViewData = {};
      for (const k of VIEW_KEYS) if (u[k] !== undefined) assign(data, k, u);
      this.set({ ...s, data, seq: u.seq, config: u.config ?? s.config, lastUpdateAt: localNowMs, awaitingSnapshot: false });
      return ok ? "applied" : "gap";
    }
    if (s.seq !== null && u.seq <= s.seq) return "stale";
    const gap = s.seq === null || u.seq !== s.seq + 1;
    const awaiting = s.awaitingSnapshot && localNowMs - this.awaitSince < SNAPSHOT_WAIT_MS;
    const data: ViewData = { ...s.data };
    for (const k of VIEW_KEYS) {
      if (u[k] === undefined) continue;
      if (awaiting && QUESTION_KEYS.has(k)) continue;
      assign(data, k, u);
    }
    this.set({ ...s, data, seq: u.seq, config: u.config ?? s.config, lastUpdateAt: localNowMs, awaitingSnapshot: awaiting });
    return gap || !ok ? "gap" : "applied";
  }

  /** A new subscription went out: drop the parts that answered another question. */
  resubscribed(invalidated: readonly ViewKey[], localNowMs: number = Date.now()): void {
    this.awaitSince = localNowMs;
    const data: ViewData = { ...this.state.data };
    for (const k of invalidated) delete data[k];
    this.set({ ...this.state, data, awaitingSnapshot: true });
  }

  /** The server answered a subscribe: null = accepted, else its reason for refusing. */
  subscribeResult(error: string | null): void {
    const s = this.state;
    if (s.subscribeError === error && (error === null || !s.awaitingSnapshot)) return;
    // Refused: the old subscription stays in force, so stop holding back its diffs.
    this.set({ ...s, subscribeError: error, awaitingSnapshot: error ? false : s.awaitingSnapshot });
  }

  setConnected(connected: boolean): void {
    const s = this.state;
    if (s.socketConnected === connected) return;
    this.set({
      ...s,
      socketConnected: connected,
      everConnected: s.everConnected || connected,
      // After a reconnect the server starts a new sequence with a snapshot.
      seq: connected ? s.seq : null,
    });
  }

  private set(next: RealtimeState): void {
    this.state = next;
    for (const l of this.listeners) l();
  }
}

function assign<K extends ViewKey>(data: ViewData, key: K, u: RealtimeUpdate): void {
  data[key] = u[key] as ViewData[K];
}
