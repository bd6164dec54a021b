import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KeyMap, priorityStep } from "./keys";
import { parseRedisUrl } from "./url";
import { parseUnackedValue, routingKeyOfUnacked, unackedValue } from "./unacked";

describe("parseRedisUrl", () => {
  it("reads host, port, db, password and username, and redacts the password", () => {
    const p = parseRedisUrl("redis://:s3cret@example.org:6390/4");
    expect(p.options).toMatchObject({ host: "example.org", port: 6390, db: 4, password: "s3cret" });
    expect(p.db).toBe(4);
    expect(p.redacted).not.toContain("s3cret");
    const u = parseRedisUrl("redis://alice:p%40ss@h/0");
    expect(u.options).toMatchObject({ username: "alice", password: "p@ss", port: 6379, db: 0 });
    expect(parseRedisUrl("redis://localhost").options).toMatchObject({ host: "localhost", port: 6379, db: 0 });
  });

  it("turns on TLS for rediss://", () => {
    expect(parseRedisUrl("rediss://h:6380/0").options.tls).toEqual({});
    expect(parseRedisUrl("rediss://h:6380/0?ssl_cert_reqs=none").options.tls).toEqual({ rejectUnauthorized: false });
    expect(parseRedisUrl("redis://h").options.tls).toBeUndefined();
  });

  it("reads redis-py/kombu's ssl_ca_certs, ssl_certfile and ssl_keyfile files for rediss://", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "petal-url-"));
    try {
      for (const f of ["ca.pem", "c.pem", "k.pem"]) writeFileSync(path.join(dir, f), `PEM ${f}`);
      const q = `ssl_cert_reqs=required&ssl_ca_certs=${encodeURIComponent(path.join(dir, "ca.pem"))}&ssl_certfile=${path.join(dir, "c.pem")}&ssl_keyfile=${path.join(dir, "k.pem")}`;
      const tls = parseRedisUrl(`rediss://:pw@h:6380/0?${q}`).options.tls;
      expect(tls).toEqual({ ca: Buffer.from("PEM ca.pem"), cert: Buffer.from("PEM c.pem"), key: Buffer.from("PEM k.pem") });
      const missing = () => parseRedisUrl(`rediss://:hunter2@h/0?ssl_ca_certs=${path.join(dir, "nope.pem")}`);
      expect(missing).toThrow(/cannot read ssl_ca_certs file .*nope\.pem.*ENOENT/);
      expect(missing).not.toThrow(/hunter2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads kombu's sentinel:// list with master_name", () => {
    const p = parseRedisUrl("sentinel://:pw@s1:26379;sentinel://:pw@s2:26380/2?master_name=mymaster");
    expect(p.options).toMatchObject({ name: "mymaster", db: 2, password: "pw", sentinels: [{ host: "s1", port: 26379 }, { host: "s2", port: 26380 }] });
    expect(p.redacted).not.toContain("pw@");
    expect(() => parseRedisUrl("sentinel://s1:26379")).toThrow(/master_name/);
  });

  it("rejects bad URLs without echoing them", () => {
    expect(() => parseRedisUrl("redis://:hunter2@h/notadb")).toThrow(/database must be a number/);
    try {
      parseRedisUrl("redis://:hunter2@h/notadb");
    } catch (e) {
      expect(String(e)).not.toContain("hunter2");
    }
    expect(() => parseRedisUrl("amqp://h")).toThrow(/unsupported scheme/);
  });
});

describe("kombu names", () => {
  it("maps queues, priorities, channels and the global key prefix", () => {
    const k = new KeyMap("", 0);
    expect(k.lists("celery")).toEqual(["celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"]);
    expect([0, 2, 3, 5, 6, 8, 9, 12, -1, NaN].map(priorityStep)).toEqual([0, 0, 3, 3, 6, 6, 9, 9, 0, 0]);
    expect(k.eventChannel("task.multi")).toBe("/0.celeryev/task.multi");
    expect(k.pidboxChannel).toBe("/0.celery.pidbox");
    const p = new KeyMap("app*:", 2);
    expect(p.list("q", 9)).toBe("app*:q\x06\x169");
    expect(p.eventPattern).toBe("app\\*:/2.celeryev/*");
    expect(p.resultKey("id")).toBe("app*:celery-task-meta-id");
    expect(p.queueExchangeOf("app*:_kombu.binding.celeryev")).toBeNull();
    expect(p.queueExchangeOf("app*:_kombu.binding.celery")).toBe("celery");
  });

  it("writes and reads the unacked value shape [message, exchange, routing_key]", () => {
    const raw = JSON.stringify({ body: "x", headers: {}, properties: { delivery_tag: "t" } });
    const v = unackedValue(raw, "", 'we"ird');
    expect(JSON.parse(v)).toEqual([JSON.parse(raw), "", 'we"ird']);
    expect(routingKeyOfUnacked(v)).toBe('we"ird');
    expect(parseUnackedValue(v)?.routingKey).toBe('we"ird');
    expect(parseUnackedValue("[1,2]")).toBeNull();
  });
});
