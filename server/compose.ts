/**
 * The one place that picks concrete implementations: broker and result backend from the URL,
 * the cluster state, the client, ingest and the demo workload. Everything else receives the
 * ServerContext built here and never constructs a transport itself.
 */
import { createBroker } from "../lib/broker/index";
import { untilConnected } from "../lib/broker/connect-retry";
import { BrokerConnectError } from "../lib/broker/errors";
import { MemoryResultBackend } from "../lib/broker/memory/results";
import { RedisResultBackend } from "../lib/broker/redis/results";
import { controlRequest } from "../lib/protocol/control";
import type { Broker, ResultBackend } from "../lib/broker/types";
import { Client } from "../lib/engine/client";
import { TaskRegistry } from "../lib/engine/registry";
import type { DeadLetter as EngineDeadLetter } from "../lib/engine/worker-options";
import { ClusterState } from "../lib/state";
import type { DeadLetter, Logger, PetalConfig, ServerContext } from "./context";
import { Demo, type DemoOptions } from "./demo";
import { Ingest, type IngestOptions } from "./ingest";
import { eventSourceFor } from "./ingest/event-thread";
import { inspectCache, refreshWorkers } from "./http/workers";
import { type CursorStore, MemoryCursorStore, metaCursorStore, StreamFollower, type StreamFollowerOptions } from "./stream";
import { Reconciler, type ReconcileOptions } from "./reconcile";
import { startHistory, type HistoryConfig, type ServerHistory } from "./history";

/** dead letters kept for /broker (default: 1000) */
export const DEAD_LETTERS_MAX = 1000;
/** raw message text kept per dead letter, characters (default: 16384) */
export const DEAD_LETTER_RAW_MAX = 16_384;

export interface ComposeOptions {
  log: Logger;
  /** Petal's version, shown in the UI (default: "0.0.0") */
  version?: string;
  ingest?: IngestOptions;
  /** demo knobs; PETAL_DEMO_RATE / PETAL_DEMO_CHAOS / PETAL_DEMO_SEED fill the gaps */
  demo?: DemoOptions;
  env?: Record<string, string | undefined>;
  /** where the event stream cursor is kept (history's meta table: metaCursorStore); default: memory only */
  cursorStore?: CursorStore;
  /** event stream follower knobs */
  stream?: StreamFollowerOptions;
  /** reconciliation knobs; false turns it off (default: on) */
  reconcile?: ReconcileOptions | false;
  /** persistent history (server/history.ts); absent or file null: none */
  history?: HistoryConfig;
}

export interface Composition {
  ctx: ServerContext;
  ingest: Ingest;
  demo: Demo | null;
  /** follows Petal's event stream (null on memory:// or when turned off) */
  stream: StreamFollower | null;
  /** puts stuck RECEIVED/STARTED tasks right (null when turned off) */
  reconciler: Reconciler | null;
  /** the SQLite history (null with --no-persist) */
  history: ServerHistory | null;
  /** connect the broker, start ingest, then the demo */
  start(): Promise<void>;
  /**
   * start(), or, when the broker cannot be reached yet, "retrying": start() is then retried in
   * the background until the broker answers (the dashboard serves meanwhile, showing the broker
   * as disconnected), or close(). Any other failure throws.
   */
  startOrRetry(): Promise<"started" | "retrying">;
  /** stop producing and stop the embedded workers (graceful); ingest keeps running */
  stopWorkload(): Promise<void>;
  /** stop everything and release the broker and result backend (idempotent) */
  close(): Promise<void>;
}

/** How often enable_events is broadcast to workers on a shared broker (default: 5000, as Flower). */
export const ENABLE_EVENTS_EVERY_MS = 5000;

function createResults(url: string): ResultBackend {
  if (url.startsWith("memory://")) return new MemoryResultBackend();
  // Celery apps on Redis almost always use the same Redis as result backend (celery-task-meta-*).
  // Unprefixed even under --global-keyprefix: Celery's backend takes its own
  // result_backend_transport_options (5.3+; 5.2 has none), not the broker's.
  return new RedisResultBackend(url);
}

/** Demo options from env; explicit options win. Bad values are ignored with a warning. */
export function demoOptionsFromEnv(env: Record<string, string | undefined>, log: Logger): DemoOptions {
  const o: DemoOptions = {};
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      log.warn(`ignoring ${name}: not a non-negative number`, { value: raw });
      return undefined;
    }
    return n;
  };
  const rate = num("PETAL_DEMO_RATE");
  if (rate !== undefined) o.rate = rate;
  const seed = num("PETAL_DEMO_SEED");
  if (seed !== undefined) o.seed = Math.floor(seed);
  const chaos = env.PETAL_DEMO_CHAOS?.trim().toLowerCase();
  if (chaos !== undefined && chaos !== "") o.chaos = !["0", "false", "no", "off"].includes(chaos);
  return o;
}

function toDeadLetter(d: EngineDeadLetter): DeadLetter {
  let raw: string;
  try {
    raw = JSON.stringify(d.envelope);
  } catch {
    raw = String(d.envelope);
  }
  if (raw.length > DEAD_LETTER_RAW_MAX) raw = raw.slice(0, DEAD_LETTER_RAW_MAX) + "...";
  return { at: Date.now() / 1000, queue: d.queue, reason: `${d.code}: ${d.reason}`, raw };
}

export async function compose(config: PetalConfig, opts: ComposeOptions): Promise<Composition> {
  // Every task this composition sends is stamped after this (memory://'s lost-PENDING cut-off).
  const composedAt = Date.now() / 1000;
  const log = opts.log;
  // Unset options are undefined here and take the transport's defaults.
  const broker: Broker = createBroker(config.broker, { redis: { eventStreamMaxLen: config.eventStreamMaxLen, globalKeyprefix: config.globalKeyprefix } });
  const results = createResults(config.broker);
  const state = new ClusterState({ maxTasks: config.maxTasks });
  // Restored before ingest starts, so live events land on top of the history.
  const history = opts.history ? await startHistory(state, opts.history, config.maxTasks, log) : null;
  const deadLetters: DeadLetter[] = [];
  const onDeadLetter = (d: EngineDeadLetter) => {
    deadLetters.push(toDeadLetter(d));
    if (deadLetters.length > DEAD_LETTERS_MAX) deadLetters.splice(0, deadLetters.length - DEAD_LETTERS_MAX);
    log.warn("dead-lettered a message", { queue: d.queue, code: d.code, task_id: d.taskId });
  };

  // The client routes task names to the queues the demo registered them with.
  const registry = config.demo ? new TaskRegistry() : undefined;
  const client = new Client({ broker, results, registry });
  const demo = config.demo
    ? new Demo({ broker, results, client, registry, log, onDeadLetter }, { ...demoOptionsFromEnv(opts.env ?? process.env, log), ...opts.demo })
    : null;

  // Like Flower (--enable_events, every 5 s): workers started without -E begin sending task
  // events. Only for brokers other processes share; the embedded workers always send them.
  const enableEvents = broker.capabilities.crossProcess
    ? {
        onPoll: async (b: Broker) => {
          await b.broadcast(controlRequest("enable_events", {}), { reply: false });
          // Queues and pool size live only in inspect replies: ask new workers once, so the
          // broker page can name each queue's consumers without anyone opening /api/workers.
          const cache = inspectCache(ctx);
          const fresh = state.workers().filter((w) => w.online && !cache.has(w.hostname)).map((w) => w.hostname);
          if (fresh.length > 0) await refreshWorkers(ctx, fresh);
        },
        pollMs: ENABLE_EVENTS_EVERY_MS,
      }
    : {};
  const followStream = config.eventStream !== false && StreamFollower.supported(broker);
  const ingest = new Ingest(broker, state, log, { ...enableEvents, skipStreamed: followStream, source: eventSourceFor(config.broker, log, { globalKeyprefix: config.globalKeyprefix }), ...opts.ingest });
  const stream = followStream ? new StreamFollower(broker, ingest, opts.cursorStore ?? (history ? metaCursorStore(history.history) : new MemoryCursorStore()), log, opts.stream) : null;
  const reconciler = opts.reconcile === false ? null : new Reconciler({ state, broker, results, sink: ingest, log, volatileQueuesSince: broker.capabilities.durable ? undefined : composedAt }, opts.reconcile);

  const ctx: ServerContext = {
    config,
    broker,
    results,
    state,
    client,
    version: opts.version ?? "0.0.0",
    deadLetters,
    queueConsumers: () => {
      const out: Record<string, string[]> = demo ? demo.queueConsumers() : {};
      // Workers outside this process tell their queues only through inspect (active_queues),
      // which GET /api/workers and the worker view cache.
      const cache = inspectCache(ctx);
      for (const w of state.workers()) {
        const aq = cache.get(w.hostname)?.active_queues;
        const queues = w.queues ?? (Array.isArray(aq) ? aq.map((q) => (q as { name?: unknown })?.name).filter((n): n is string => typeof n === "string") : null);
        if (!w.online || !queues) continue;
        for (const q of queues) {
          const list = (out[q] ??= []);
          if (!list.includes(w.hostname)) list.push(w.hostname);
        }
      }
      return out;
    },
    knownTaskNames: () => {
      // Flower asks the app; Petal has no app, so it knows what workers registered (inspect),
      // what its embedded workers run, and every name seen in events.
      const names = new Set(state.taskTypes());
      if (demo) for (const n of demo.taskNames) names.add(n);
      for (const info of inspectCache(ctx).values()) {
        if (Array.isArray(info.registered)) for (const n of info.registered) if (typeof n === "string") names.add(n);
      }
      return [...names].sort();
    },
    log,
  };

  let started = false;
  let closed: Promise<void> | null = null;
  const stopRetrying = new AbortController();
  const start = async (): Promise<void> => {
    if (started) return;
    // Nothing below has run when connect() fails: start() may be called again (main.ts retries).
    await broker.connect();
    started = true;
    // The stream's starting point is fixed before ingest drops streamed pub/sub copies: no gap.
    await stream?.prepare();
    // Ingest first: the demo workers' worker-online events must not be missed.
    await ingest.start();
    await stream?.run();
    await demo?.start();
    reconciler?.start();
  };
  return {
    ctx,
    ingest,
    demo,
    stream,
    reconciler,
    history,
    start,
    async startOrRetry() {
      try {
        await start();
        return "started";
      } catch (err) {
        if (!(err instanceof BrokerConnectError)) throw err;
        log.warn(`${err.message}; the dashboard serves meanwhile and retries until it answers`);
        const signal = stopRetrying.signal;
        untilConnected(start, {
          signal,
          onRetry: (e, attempt, delayMs) => log.warn(`broker still unreachable: ${e.message}; next try in ${delayMs / 1000} s`, { attempt }),
        }).then(
          (ok) => void (ok && log.info("broker reachable: monitoring started", { url: broker.url })),
          (e: unknown) => void (signal.aborted || log.error("startup failed once the broker answered", { err: String(e) })),
        );
        return "retrying";
      }
    },
    async stopWorkload() {
      await demo?.stop();
    },
    close: () =>
      (closed ??= (async () => {
        stopRetrying.abort();
        await demo?.stop().catch((err: unknown) => log.warn("demo stop failed", { err: String(err) }));
        await reconciler?.stop();
        await stream?.stop();
        await ingest.stop().catch((err: unknown) => log.warn("ingest stop failed", { err: String(err) }));
        await history?.close().catch((err: unknown) => log.warn("history close failed", { err: String(err) }));
        await broker.close().catch((err: unknown) => log.warn("broker close failed", { err: String(err) }));
        await results.close().catch((err: unknown) => log.warn("result backend close failed", { err: String(err) }));
      })()),
  };
}
