/**
 * bench:ingest publisher (a child of scripts/bench-ingest.ts, talking over IPC): plays a
 * Celery cluster's event traffic into Redis. Payloads are byte-exact Celery envelopes
 * (celery-events.ts) serialized ahead of time into one buffer of RESP PUBLISH commands, so
 * sending costs a socket write per 5 ms tick and nothing else; replies are only counted.
 *
 * Traffic shape: task-sent alone on /0.celeryev/task.sent (the client), each worker's events in
 * task.multi batches of up to 24 (a prefork worker's buffered dispatcher, PROTOCOL.md §5.1).
 * Publisher `index` of `count` sends the tasks i with i % count === index.
 *
 * IPC in:  {cmd: "prepare", run, first, tasks, t0}  → {ok: "prepared", events, messages, bytes, ms}
 *          {cmd: "go", rate}  (events/s, 0 = as fast as the socket takes them)
 *                                                   → {ok: "sent", events, messages, ms}
 *          {cmd: "quit"}
 */
import net from "node:net";
import { channel, heartbeat, HOSTS, lifecycle, multi, single, type Wire } from "./celery-events";

const [portArg, dbArg, indexArg, countArg] = process.argv.slice(2);
const port = Number(portArg);
const db = Number(dbArg ?? 0);
const index = Number(indexArg ?? 0);
const count = Number(countArg ?? 1);
if (!(port > 0) || !process.send) throw new Error("usage: fork ingest-publisher.ts <port> <db> <index> <count> (with IPC)");
const reply = (m: Record<string, unknown>) => process.send?.(m);

const MULTI_MAX = 24;
const TICK_MS = 5;

interface Prepared {
  buf: Buffer;
  /** byte offset where message k ends */
  ends: Int32Array | Float64Array;
  /** events carried by messages 0..k */
  cumEvents: Float64Array;
  messages: number;
  events: number;
}

let prepared: Prepared | null = null;
const sock = net.connect({ port, host: "127.0.0.1" });
sock.setNoDelay(true);
let replies = 0;
let replyWaiter: { target: number; resolve: () => void } | null = null;
let errors = 0;
sock.on("data", (d: Buffer) => {
  // Every PUBLISH answers one line (":<receivers>\r\n"); an error line starts with "-".
  let i = -1;
  while ((i = d.indexOf(10, i + 1)) !== -1) replies++;
  if (d.includes(45 /* - */) && d.toString("latin1").includes("-ERR")) errors++;
  if (replyWaiter && replies >= replyWaiter.target) {
    const w = replyWaiter;
    replyWaiter = null;
    w.resolve();
  }
});
sock.on("error", (err) => {
  console.error("publisher socket:", err.message);
  process.exit(1);
});

function resp(w: Wire): Buffer {
  const ch = channel(db, w);
  const chLen = Buffer.byteLength(ch);
  const pLen = Buffer.byteLength(w.payload);
  return Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$${chLen}\r\n${ch}\r\n$${pLen}\r\n${w.payload}\r\n`, "utf8");
}

function prepare(run: number, first: number, tasks: number, t0: number): Prepared {
  const parts: Buffer[] = [];
  const evCounts: number[] = [];
  const push = (w: Wire, n: number) => {
    parts.push(resp(w));
    evCounts.push(n);
  };
  // Heartbeats first, so the synthetic workers are online in the dashboard.
  HOSTS.forEach((h, k) => {
    if (k % count === index) push(single(h, heartbeat(h, 1, t0)), 1);
  });
  const pending = new Map<string, Record<string, unknown>[]>();
  for (let i = first; i < first + tasks; i++) {
    if (i % count !== index) continue;
    const l = lifecycle(run, i, t0 + (i - first) / 20_000, 4 * i);
    push(single("client@bench", l.sent), 1);
    const p = pending.get(l.hostname) ?? [];
    p.push(...l.worker);
    if (p.length >= MULTI_MAX) {
      push(multi(l.hostname, p), p.length);
      pending.delete(l.hostname);
    } else pending.set(l.hostname, p);
  }
  for (const [h, p] of pending) push(multi(h, p), p.length);
  const buf = Buffer.concat(parts);
  const ends = new Float64Array(parts.length);
  const cumEvents = new Float64Array(parts.length);
  let off = 0;
  let ev = 0;
  for (let k = 0; k < parts.length; k++) {
    off += parts[k].length;
    ev += evCounts[k];
    ends[k] = off;
    cumEvents[k] = ev;
  }
  return { buf, ends, cumEvents, messages: parts.length, events: ev };
}

function write(chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (sock.write(chunk)) resolve();
    else sock.once("drain", () => resolve());
  });
}

async function go(p: Prepared, rate: number): Promise<number> {
  const start = performance.now();
  const base = replies;
  let next = 0; // first message not yet written
  let off = 0;
  while (next < p.messages) {
    let upto: number;
    if (rate > 0) {
      const due = (rate * (performance.now() - start)) / 1000;
      upto = next;
      while (upto < p.messages && p.cumEvents[upto] <= due) upto++;
      if (upto === next) {
        await new Promise((r) => setTimeout(r, TICK_MS));
        continue;
      }
    } else {
      // As fast as Redis reads: 256 KB writes, waiting for drain.
      upto = next;
      while (upto < p.messages && p.ends[upto] - off < 256 * 1024) upto++;
      if (upto === next) upto++;
    }
    const end = p.ends[upto - 1];
    await write(p.buf.subarray(off, end));
    off = end;
    next = upto;
  }
  if (replies - base < p.messages) await new Promise<void>((resolve) => (replyWaiter = { target: base + p.messages, resolve }));
  return performance.now() - start;
}

process.on("message", (m: { cmd: string; run?: number; first?: number; tasks?: number; t0?: number; rate?: number }) => {
  void (async () => {
    if (m.cmd === "prepare") {
      const t = performance.now();
      prepared = null;
      prepared = prepare(m.run ?? 1, m.first ?? 0, m.tasks ?? 0, m.t0 ?? Date.now() / 1000);
      reply({ ok: "prepared", events: prepared.events, messages: prepared.messages, bytes: prepared.buf.length, ms: performance.now() - t });
    } else if (m.cmd === "go") {
      if (!prepared) throw new Error("go before prepare");
      const ms = await go(prepared, m.rate ?? 0);
      reply({ ok: "sent", events: prepared.events, messages: prepared.messages, ms, errors });
    } else if (m.cmd === "quit") {
      sock.end();
      process.disconnect?.();
    }
  })().catch((err: unknown) => {
    console.error("publisher:", err);
    process.exit(1);
  });
});
sock.once("connect", () => reply({ ok: "ready" }));
