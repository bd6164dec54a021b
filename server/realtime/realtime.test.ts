import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { SOCKET_EVENTS, type RealtimeUpdate } from "../../lib/protocol/api";
import { ev, record, sleep, startTestServer, type Recorder, type TestServer } from "./testing";

let servers: TestServer[] = [];
let clients: Recorder[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(...args: Parameters<typeof startTestServer>) {
  const s = await startTestServer(...args);
  servers.push(s);
  return s;
}
function client(...args: Parameters<typeof record>) {
  const c = record(...args);
  clients.push(c);
  return c;
}
const publish = (s: TestServer, events: object[], host = "w1@test") => s.composition.ctx.broker.publishEvent(host, events);

describe("realtime", () => {
  it("sends a full snapshot with config on connect", async () => {
    const s = await server();
    const c = client(s.url);
    const u = await c.next();
    expect(u.full).toBe(true);
    expect(u.seq).toBe(1);
    expect(u.config).toEqual({ readOnly: false, broker: "memory://", version: "9.9.9-test" });
    expect(u.overview?.workers_total).toBe(0);
    expect(u.broker).toMatchObject({ url: "memory://", transport: "memory", status: "connected" });
    expect(Math.abs(u.now - Date.now())).toBeLessThan(2000);
    expect(u.tasks).toBeUndefined();
  });

  it("takes the subscription from the handshake", async () => {
    const s = await server();
    await publish(s, [ev.received(randomUUID())]);
    await sleep(50);
    const c = client(s.url, { auth: { subscription: { tasks: { limit: 5 }, workers: true } } });
    const u = await c.next();
    expect(u.full).toBe(true);
    expect(u.tasks?.total).toBe(1);
    expect(u.workers?.map((w) => w.hostname)).toEqual(["w1@test"]);
    expect(u.overview).toBeUndefined();
  });

  it("sends diffs only for subscribed views, with increasing seq", async () => {
    const s = await server();
    const c = client(s.url);
    await c.next((u) => u.full);
    c.socket.emit(SOCKET_EVENTS.subscribe, { tasks: { limit: 10 } });
    const snap = await c.next((u) => u.full);
    expect(snap.tasks).toEqual({ total: 0, offset: 0, rows: [] });
    expect(snap.overview).toBeUndefined();

    const id = randomUUID();
    await publish(s, [ev.heartbeat("w9@test", "worker-online"), ev.received(id)]);
    const d = await c.next((u) => !!u.tasks);
    expect(d.full).toBe(false);
    expect(d.tasks?.rows.map((r) => r.uuid)).toEqual([id]);
    // Workers changed too, but this socket does not show them.
    expect(d.workers).toBeUndefined();
    expect(d.overview).toBeUndefined();
    expect(d.config).toBeUndefined();

    // A worker-only change produces no message for a tasks-only subscriber.
    const before = c.updates.length;
    await publish(s, [ev.heartbeat("w9@test")]);
    await sleep(300);
    expect(c.updates.slice(before).filter((x) => x.u.workers || x.u.tasks)).toEqual([]);

    const seqs = c.updates.map((x) => x.u.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("sends at most 10 messages a second under a burst of 2000 events", async () => {
    const s = await server();
    const c = client(s.url, { auth: { subscription: { overview: true, workers: true, tasks: { limit: 20 } } } });
    await c.next((u) => u.full);
    const t0 = performance.now();
    for (let b = 0; b < 20; b++) {
      const events: object[] = [];
      for (let i = 0; i < 50; i++) {
        const id = randomUUID();
        events.push(ev.received(id), ev.started(id));
      }
      await publish(s, events);
      await sleep(50);
    }
    // Wait until the last change has been sent.
    const fin = await c.next((u) => u.overview?.events_total === 2000, 3000);
    const sent = c.updates.filter((x) => x.at >= t0).map((x) => x.at);
    expect(sent.length).toBeGreaterThan(3);
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((t) => t >= sent[i]! && t < sent[i]! + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    expect(fin.overview?.active).toBe(1000);
    expect(s.composition.ingest.stats().batches).toBeLessThan(200);
  });

  it("answers resync with a full snapshot and keeps counting seq", async () => {
    const s = await server();
    const c = client(s.url);
    await c.next((u) => u.full);
    await sleep(120);
    c.socket.emit(SOCKET_EVENTS.resync);
    const u = await c.next((x) => x.full);
    expect(u.seq).toBe(2);
    expect(u.config).toBeDefined();
    expect(u.overview).toBeDefined();
  });

  it("updates a task view when that task changes", async () => {
    const s = await server();
    const id = randomUUID();
    await publish(s, [ev.received(id)]);
    await sleep(50);
    const c = client(s.url, { auth: { subscription: { task: id } } });
    const snap = await c.next((u) => u.full);
    expect(snap.task?.state).toBe("RECEIVED");

    // Another task changing does not resend this one.
    await publish(s, [ev.received(randomUUID())]);
    await sleep(250);
    expect(c.updates.filter((x) => !x.u.full && x.u.task)).toEqual([]);

    await publish(s, [ev.started(id)]);
    const u = await c.next((x) => x.task?.state === "STARTED");
    expect(u.full).toBe(false);
    await publish(s, [ev.succeeded(id)]);
    const done = await c.next((x) => !!x.task);
    expect(done.task).toMatchObject({ uuid: id, state: "SUCCESS", result: "3" });
  });

  it("reports an unknown task as null and refuses bad subscriptions", async () => {
    const s = await server();
    const c = client(s.url);
    await c.next((u) => u.full);
    const ack = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
      c.socket.emit(SOCKET_EVENTS.subscribe, { tasks: { limit: 100000 } }, resolve),
    );
    expect(ack).toMatchObject({ ok: false, error: { code: "bad_subscription" } });
    await sleep(50);
    expect(c.errors).toHaveLength(1);
    c.socket.emit(SOCKET_EVENTS.subscribe, { nonsense: 1 });
    c.socket.emit(SOCKET_EVENTS.subscribe, "x");
    await sleep(150);
    expect(c.errors).toHaveLength(3);
    // Still the old subscription: no full snapshot was sent for the refused ones.
    expect(c.updates.filter((x) => x.u.full)).toHaveLength(1);

    c.socket.emit(SOCKET_EVENTS.subscribe, { task: "no-such-id" });
    const u = await c.next((x) => x.full);
    expect(u.task).toBeNull();
  });

  it("pushes queue lengths to broker subscribers", async () => {
    const s = await server({}, { brokerPollMs: 50 });
    const c = client(s.url, { auth: { subscription: { broker: true } } });
    await c.next((u) => u.full);
    await s.composition.ctx.client.sendTask("demo.add", [1, 2], {}, { queue: "extra" });
    const u = await c.next((x) => !!x.broker?.queues.some((q) => q.name === "extra" && q.messages === 1));
    expect(u.full).toBe(false);
  });

  it("requires basic auth on the socket when auth is on", async () => {
    const s = await server({ basicAuth: "admin:pw" });
    const denied = client(s.url);
    const err = await new Promise<Error>((resolve) => denied.socket.on("connect_error", resolve));
    expect(err).toBeInstanceOf(Error);
    const ok = client(s.url, { extraHeaders: { authorization: "Basic " + Buffer.from("admin:pw").toString("base64") } });
    const u: RealtimeUpdate = await ok.next((x) => x.full);
    expect(u.seq).toBe(1);
  });

  it("serves the socket under the url prefix", async () => {
    const s = await server({ urlPrefix: "/flower" });
    const c = client(s.url, { path: "/flower/socket.io" });
    expect((await c.next()).full).toBe(true);
  });
});
