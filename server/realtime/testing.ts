/**
 * Test helpers: a real Petal server without Next (API + socket.io on a plain HTTP server, state
 * fed through the real memory broker and ingest) and a socket.io client that records updates.
 */
import http from "node:http";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { taskEvent, workerEvent } from "../../lib/protocol/events";
import { SOCKET_EVENTS, type RealtimeUpdate } from "../../lib/protocol/api";
import type { PetalConfig } from "../context";
import { compose, type Composition } from "../compose";
import { silentLogger } from "../log";
import { TEST_CONFIG } from "../http/test-context";

export { TEST_CONFIG };
import { createRequestListener } from "../main";
// The browser's decoder, so tests read what a tab would show (and check the deltas round-trip).
import { decodeUpdate, type WireUpdate } from "../../lib/protocol/wire";
import { attachRealtime, type Realtime, type RealtimeOptions } from "./index";

export interface TestServer {
  url: string;
  composition: Composition;
  realtime: Realtime;
  close(): Promise<void>;
}


export async function startTestServer(config: Partial<PetalConfig> = {}, rt: RealtimeOptions = {}): Promise<TestServer> {
  const composition = await compose({ ...TEST_CONFIG, ...config }, { log: silentLogger, version: "9.9.9-test", ingest: { flushMs: 5 }, env: {} });
  await composition.start();
  const server = http.createServer(createRequestListener(composition.ctx, null));
  const realtime = attachRealtime(server, composition.ctx, rt);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    composition,
    realtime,
    close: async () => {
      const closed = realtime.close();
      server.closeAllConnections();
      await closed;
      await composition.close();
    },
  };
}

export interface Recorder {
  socket: ClientSocket;
  updates: { at: number; u: RealtimeUpdate }[];
  errors: unknown[];
  /** resolves with the first update (after those already seen) that matches */
  next(pred?: (u: RealtimeUpdate) => boolean, timeoutMs?: number): Promise<RealtimeUpdate>;
  close(): void;
}

export function record(url: string, opts: { path?: string; auth?: Record<string, unknown>; extraHeaders?: Record<string, string> } = {}): Recorder {
  const socket = connect(url, {
    path: opts.path ?? "/socket.io",
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: opts.auth,
    extraHeaders: opts.extraHeaders,
  });
  const updates: Recorder["updates"] = [];
  const errors: unknown[] = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  const held: { tasks?: RealtimeUpdate["tasks"]; charts?: RealtimeUpdate["charts"] } = {};
  socket.on(SOCKET_EVENTS.update, (w: WireUpdate) => {
    const { update: u, ok } = decodeUpdate(w, held);
    if (!ok) errors.push(new Error(`task delta seq ${w.seq} builds on rows this client lacks`));
    if (u.tasks) held.tasks = u.tasks;
    if (u.charts) held.charts = u.charts;
    updates.push({ at: performance.now(), u });
    for (const w of [...waiters]) w();
  });
  socket.on("subscribe_error", (e: unknown) => errors.push(e));
  return {
    socket,
    updates,
    errors,
    next(pred = () => true, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          while (cursor < updates.length) {
            const u = updates[cursor++]!.u;
            if (pred(u)) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(u);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching update within ${timeoutMs} ms (${updates.length} seen)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => void socket.close(),
  };
}

let clock = 1;
const src = (hostname: string) => ({ hostname, pid: 4242, clock: clock++, utcoffset: 0 });

/** Celery-shaped events for hand-made scenarios. */
export const ev = {
  received: (uuid: string, name = "demo.add", hostname = "w1@test") =>
    taskEvent("task-received", { uuid, name, args: "(1, 2)", kwargs: "{}", root_id: uuid, parent_id: null, retries: 0, eta: null, expires: null }, src(hostname)),
  started: (uuid: string, hostname = "w1@test") => taskEvent("task-started", { uuid }, src(hostname)),
  succeeded: (uuid: string, hostname = "w1@test") => taskEvent("task-succeeded", { uuid, result: "3", runtime: 0.01 }, src(hostname)),
  heartbeat: (hostname = "w1@test", type: "worker-online" | "worker-heartbeat" = "worker-heartbeat") =>
    workerEvent(type, { freq: 2, active: 0, processed: 0, loadavg: [0.1, 0.1, 0.1], sw_ident: "test", sw_ver: "1", sw_sys: "Linux" }, src(hostname)),
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
