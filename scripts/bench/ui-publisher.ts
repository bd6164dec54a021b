/**
 * Bench child (scripts/bench-ui.ts): Celery event traffic on a private Redis, in its own process
 * so publishing never competes with the orchestrator's measurements for an event loop.
 *
 *   preload <redis-url> <tasks>        every task as task-received + task-succeeded/failed, in
 *                                      task.multi batches; paced on the subscriber's output
 *                                      buffer so Redis never drops Petal; prints "progress n"
 *                                      and "done n"
 *   steady  <redis-url> <events/s>     full lifecycles (task-sent single, then received,
 *                                      started, succeeded/failed in task.multi batches one tick
 *                                      apart) plus worker heartbeats; prints "rate e/s" each second
 *
 * Usage: node --import tsx scripts/bench/ui-publisher.ts <mode> <redis-url> <n>
 */
import { Redis } from "ioredis";
import { HOSTS, channel, heartbeat, lifecycle, multi, single, type Wire } from "./celery-events";

const [mode, url, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!url || !(n > 0) || (mode !== "preload" && mode !== "steady")) {
  throw new Error("usage: ui-publisher.ts preload|steady <redis-url> <n>");
}
const db = Number(new URL(url).pathname.slice(1) || "0");
const redis = new Redis(url, { enableAutoPipelining: false, maxRetriesPerRequest: null });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Largest output buffer among pub/sub subscribers, bytes (Petal's subscriber is the only one). */
async function subscriberBacklog(): Promise<number> {
  const list = String(await redis.call("CLIENT", "LIST", "TYPE", "pubsub"));
  let max = 0;
  for (const m of list.matchAll(/\bomem=(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

async function publishAll(wires: Wire[]): Promise<void> {
  const p = redis.pipeline();
  for (const w of wires) p.publish(channel(db, w), w.payload);
  await p.exec();
}

function byHost<T extends { hostname: string }>(items: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const l = m.get(it.hostname);
    if (l) l.push(it);
    else m.set(it.hostname, [it]);
  }
  return m;
}

async function heartbeats(clock: number): Promise<void> {
  const now = Date.now() / 1000;
  await publishAll(HOSTS.map((h) => single(h, heartbeat(h, clock, now))));
}

/** Past tasks, received over the last `spanS` seconds, newest last (run 1). */
async function preload(total: number): Promise<void> {
  const CHUNK = 2000;
  const spanS = 600;
  const t0 = Date.now() / 1000 - spanS - 5;
  let sent = 0;
  let lastReport = 0;
  await heartbeats(1);
  while (sent < total) {
    const end = Math.min(total, sent + CHUNK);
    const lcs = [];
    for (let i = sent; i < end; i++) lcs.push(lifecycle(1, i, t0 + (i / total) * spanS, i * 4));
    const wires: Wire[] = [];
    for (const [host, group] of byHost(lcs)) {
      // received + final outcome: half the events of a full lifecycle, same end state.
      const evs: Record<string, unknown>[] = [];
      for (const lc of group) evs.push(lc.worker[0], lc.worker[2]);
      for (let j = 0; j < evs.length; j += 200) wires.push(multi(host, evs.slice(j, j + 200)));
    }
    await publishAll(wires);
    sent = end;
    // Keep Petal's subscriber buffer small: Redis drops a subscriber past its pub/sub limit.
    while ((await subscriberBacklog()) > 4 * 1024 * 1024) await sleep(20);
    if (Date.now() - lastReport > 500) {
      lastReport = Date.now();
      process.stdout.write(`progress ${sent}\n`);
      if (sent % 100_000 < CHUNK) await heartbeats(sent * 4);
    }
  }
  process.stdout.write(`done ${sent}\n`);
}

/** Live traffic at `rate` events/s (run 2): 4 events per task, stages one tick apart. */
async function steady(rate: number): Promise<void> {
  const TICK_MS = 20;
  const perTickTasks = rate / 4 / (1000 / TICK_MS);
  let owed = 0;
  let i = 0;
  let clock = 10_000_000;
  let stage1: ReturnType<typeof lifecycle>[] = [];
  let stage2: ReturnType<typeof lifecycle>[] = [];
  let events = 0;
  let lastReport = Date.now();
  let lastBeat = 0;
  const start = performance.now();
  for (let tick = 0; ; tick++) {
    const now = Date.now() / 1000;
    owed += perTickTasks;
    const fresh = [];
    while (owed >= 1) {
      owed--;
      fresh.push(lifecycle(2, i++, now, (clock += 4)));
    }
    const wires: Wire[] = [];
    for (const lc of fresh) wires.push(single("client@bench", lc.sent));
    // received now, started next tick, finished the tick after: rows visibly move through states.
    const batch = (items: ReturnType<typeof lifecycle>[], k: number, ts: number) => {
      for (const [host, group] of byHost(items)) {
        wires.push(multi(host, group.map((lc) => ({ ...lc.worker[k], timestamp: ts }))));
      }
    };
    batch(fresh, 0, now);
    batch(stage1, 1, now);
    batch(stage2, 2, now);
    events += fresh.length * 2 + stage1.length + stage2.length;
    stage2 = stage1;
    stage1 = fresh;
    if (Date.now() - lastBeat > 2000) {
      lastBeat = Date.now();
      for (const h of HOSTS) wires.push(single(h, heartbeat(h, (clock += 1), now)));
    }
    await publishAll(wires);
    if (Date.now() - lastReport >= 1000) {
      process.stdout.write(`rate ${Math.round((events * 1000) / (Date.now() - lastReport))}\n`);
      events = 0;
      lastReport = Date.now();
    }
    const next = start + (tick + 1) * TICK_MS;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

process.on("SIGTERM", () => {
  redis.disconnect();
  process.exit(0);
});

if (mode === "preload") {
  await preload(n);
  await redis.quit();
} else {
  await steady(n);
}
