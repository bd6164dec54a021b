import net from "node:net";
import { describe, expect, it } from "vitest";
import { CELERY_MISSING, requireCelery, requireRedis, startRedisServer } from "./redis-server";

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => s.write("PING\r\n"));
    s.once("data", (d) => {
      s.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    s.once("error", () => resolve(false));
  });

describe.skipIf(requireRedis())("startRedisServer", () => {
  it("runs a private server on a free port, restartable on the same port, and stops it", async () => {
    const a = await startRedisServer();
    expect(a.port).not.toBe(6379);
    expect(a.url).toBe(`redis://127.0.0.1:${a.port}/0`);
    expect(await answers(a.port)).toBe(true);
    await a.stop();
    await a.stop(); // idempotent
    expect(await answers(a.port)).toBe(false);
    const b = await startRedisServer({ port: a.port });
    expect(await answers(b.port)).toBe(true);
    await b.stop();
    await expect(startRedisServer({ port: 6379 })).rejects.toThrow(/6379/);
  });
});

describe("requireCelery", () => {
  it("is false when Debian's python3 has celery, else the install hint", () => {
    const r = requireCelery();
    expect(r === false || r === CELERY_MISSING).toBe(true);
  });
});
