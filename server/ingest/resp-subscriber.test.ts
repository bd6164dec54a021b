import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RespSubscriber } from "./resp-subscriber";

const bulk = (s: string) => {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n")]);
};
const pmessage = (pattern: string, channel: string, payload: string) => Buffer.concat([Buffer.from("*4\r\n"), bulk("pmessage"), bulk(pattern), bulk(channel), bulk(payload)]);
const confirm = (kind: string, pattern: string) => Buffer.concat([Buffer.from("*3\r\n"), bulk(kind), bulk(pattern), Buffer.from(":1\r\n")]);

/** A fake Redis: answers the handshake with `hello(commands)` and then runs `script`. */
function fakeRedis(script: (sock: net.Socket, commands: string) => void): Promise<{ port: number; server: net.Server; connections: () => number }> {
  let n = 0;
  const server = net.createServer((sock) => {
    n++;
    let seen = "";
    sock.on("data", (d) => {
      seen += d.toString("utf8");
      if (seen.includes("PSUBSCRIBE")) {
        const s = seen;
        seen = "";
        script(sock, s);
      }
    });
    sock.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, server, connections: () => n })));
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function writeInPieces(sock: net.Socket, data: Buffer, sizes: number[]): Promise<void> {
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length];
    sock.write(data.subarray(off, off + n));
    off += n;
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe("RespSubscriber", () => {
  it("parses pmessage frames split anywhere (inside lengths, CRLFs and multi-byte characters), in order", async () => {
    const payloads = Array.from({ length: 60 }, (_, i) => `{"body": "${"x".repeat(i * 37)}", "n": ${i}, "s": "é☃\r\n日本"}`);
    const frames = Buffer.concat([Buffer.from("+OK\r\n"), confirm("psubscribe", "/0.celeryev/*"), ...payloads.map((p) => pmessage("/0.celeryev/*", "/0.celeryev/task.multi", p))]);
    const fake = await fakeRedis((sock, cmds) => {
      expect(cmds).toContain("SETNAME");
      void writeInPieces(sock, frames, [1, 2, 3, 5, 7, 11, 13, 200, 1]);
    });
    servers.push(fake.server);
    const got: string[] = [];
    const sub = new RespSubscriber({ host: "127.0.0.1", port: fake.port, name: "t", pattern: "/0.celeryev/*", onMessage: (p) => got.push(p) });
    await sub.start();
    const deadline = Date.now() + 10_000;
    while (got.length < payloads.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await sub.close(200);
    expect(got).toEqual(payloads);
    expect(sub.queuedBytes).toBe(0);
  });

  it("reconnects after a refused handshake and subscribes on the new connection", async () => {
    const statuses: string[] = [];
    const fake = await fakeRedis((sock, cmds) => {
      // first connection: wrong password; second: fine
      if (fake.connections() === 1) {
        expect(cmds).toContain("AUTH");
        sock.write("-WRONGPASS invalid username-password pair\r\n-NOAUTH Authentication required.\r\n");
      } else sock.write(Buffer.concat([Buffer.from("+OK\r\n+OK\r\n"), confirm("psubscribe", "p*"), pmessage("p*", "p1", "hello")]));
    });
    servers.push(fake.server);
    const got: string[] = [];
    const sub = new RespSubscriber({ host: "127.0.0.1", port: fake.port, password: "pw", pattern: "p*", onMessage: (p) => got.push(p), onStatus: (s) => statuses.push(s) });
    await sub.start();
    const deadline = Date.now() + 5000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await sub.close(200);
    expect(got).toEqual(["hello"]);
    expect(fake.connections()).toBe(2);
    expect(statuses).toContain("error");
    expect(statuses).toContain("reconnecting");
  });
});
