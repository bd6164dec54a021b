import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Route } from "./types";
import { createTestContext, type TestContext } from "./test-context";
import { startTestServer, type TestServer } from "./test-http";

const basic = (s: string) => ({ authorization: "Basic " + Buffer.from(s).toString("base64") });

let t: TestContext;
let srv: TestServer;

beforeAll(async () => {
  t = await createTestContext();
  srv = await startTestServer(t.ctx);
});

afterAll(async () => {
  await srv?.close();
  await t?.close();
});

describe("routing and encoding", () => {
  it("hands non-API paths back to the caller and answers unknown /api paths with a JSON 404", async () => {
    expect((await srv.get("/tasks")).text).toBe("next");
    expect((await srv.get("/")).text).toBe("next");
    const r = await srv.get("/api/nope");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: { code: "not_found", message: "Unknown API path '/api/nope'" } });
  });

  it("writes JSON like Python's json.dumps with Flower's content type", async () => {
    const r = await srv.get("/api/task/types");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=UTF-8");
    expect(r.text).toBe('{"task-types": []}');
    expect(r.headers.get("content-length")).toBe(String(r.text.length));
  });

  it("answers /healthcheck and /metrics", async () => {
    const h = await srv.get("/healthcheck");
    expect([h.status, h.text]).toEqual([200, "OK"]);
    const m = await srv.get("/metrics");
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toBe("text/plain");
    expect(m.text).toContain('flower_worker_online{worker="w1@test"} 1.0');
  });

  it("sends CORS headers without auth and answers OPTIONS with 204", async () => {
    const r = await srv.get("/api/task/types");
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const o = await srv.request("OPTIONS", "/api/task/async-apply/test.add");
    expect(o.status).toBe(204);
    expect(o.text).toBe("");
    expect(o.headers.get("content-type")).toBeNull();
    expect(o.headers.get("access-control-allow-methods")).toContain("POST");
    expect(o.headers.get("allow")).toContain("POST");
  });

  it("answers 405 with Allow for the wrong method", async () => {
    const g = await srv.get("/api/task/async-apply/test.add");
    expect(g.status).toBe(405);
    expect(g.json.error.code).toBe("method_not_allowed");
    expect(g.headers.get("allow")).toContain("POST");
    expect(g.headers.get("allow")).not.toContain("GET");
    expect((await srv.get("/api/worker/pool/grow/w1@test")).status).toBe(405);
    expect((await srv.post("/api/workers")).status).toBe(405);
  });

  it("gives GET JSON an ETag and answers a matching If-None-Match with 304", async () => {
    const first = await srv.get("/api/task/types");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    const again = await srv.get("/api/task/types", { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    // A change in the body changes the tag, so a stale tag gets the new body.
    const sent = await srv.post("/api/task/async-apply/test.add", { args: [1, 1] });
    await t.waitFor(() => t.ctx.state.taskTypes().includes("test.add"));
    const changed = await srv.get("/api/task/types", { "if-none-match": etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(sent.status).toBe(200);
  });

  it("escapes </ and never leaks a thrown error's text", async () => {
    const routes: Route[] = [
      { method: "GET", path: "/api/x", handler: async () => ({ status: 200, body: { html: "</script>" } }) },
      {
        method: "GET",
        path: "/api/boom",
        handler: async () => {
          throw new Error("secret internals");
        },
      },
    ];
    const custom = await startTestServer(t.ctx, routes);
    try {
      expect((await custom.get("/api/x")).text).toBe('{"html": "<\\/script>"}');
      const r = await custom.get("/api/boom");
      expect(r.status).toBe(500);
      expect(r.json).toEqual({ error: { code: "internal", message: "Internal server error" } });
      expect(r.text).not.toContain("secret");
      expect(t.logged.some((l) => l.level === "error" && String(l.extra?.error).includes("secret internals"))).toBe(true);
    } finally {
      await custom.close();
    }
  });

  it("refuses bodies that are not JSON or too large", async () => {
    const bad = await srv.request("POST", "/api/task/async-apply/test.add", { body: "{args:[1,2]}" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("bad_request");
    const big = await srv.request("POST", "/api/task/async-apply/test.add", { body: JSON.stringify({ args: ["x".repeat(2 << 20)] }) });
    expect(big.status).toBe(413);
  });
});

describe("guards", () => {
  it("asks for basic auth on the API but keeps /healthcheck and /metrics open", async () => {
    t.ctx.config.basicAuth = "admin:pw,ops:s:3";
    try {
      const none = await srv.get("/api/task/types");
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      expect(none.json.error.code).toBe("unauthorized");
      expect(none.headers.get("access-control-allow-origin")).toBeNull();
      expect((await srv.get("/api/task/types", basic("admin:nope"))).status).toBe(401);
      expect((await srv.get("/api/nope")).status).toBe(401);
      const ok = await srv.get("/api/task/types", basic("ops:s:3"));
      expect(ok.status).toBe(200);
      expect(ok.headers.get("access-control-allow-origin")).toBeNull();
      expect((await srv.post("/api/task/revoke/abc", undefined, basic("admin:pw"))).status).toBe(200);
      expect((await srv.get("/healthcheck")).status).toBe(200);
      expect((await srv.get("/metrics")).status).toBe(200);
    } finally {
      t.ctx.config.basicAuth = null;
    }
  });

  it("refuses every write route in read-only mode and keeps reads working", async () => {
    t.ctx.config.readOnly = true;
    try {
      for (const path of [
        "/api/task/async-apply/test.add",
        "/api/task/send-task/test.add",
        "/api/task/revoke/abc",
        "/api/task/retry/abc",
        "/api/task/abort/abc",
        "/api/worker/pool/grow/w1@test",
        "/api/worker/shutdown/w1@test",
      ]) {
        const r = await srv.post(path, {});
        expect(r.status, path).toBe(403);
        expect(r.json, path).toEqual({ error: { code: "read_only", message: "Read only mode is enabled" } });
      }
      expect((await srv.get("/api/task/types")).status).toBe(200);
    } finally {
      t.ctx.config.readOnly = false;
    }
    expect(t.ctx.state.getWorker("w1@test")?.online).toBe(true);
  });

  it("serves under the url prefix only", async () => {
    t.ctx.config.urlPrefix = "/flower/";
    const prefixed = await startTestServer(t.ctx);
    t.ctx.config.urlPrefix = "";
    try {
      expect((await prefixed.get("/flower/api/task/types")).status).toBe(200);
      expect((await prefixed.get("/flower/healthcheck")).text).toBe("OK");
      expect((await prefixed.get("/api/task/types")).text).toBe("next");
      expect((await prefixed.get("/flowerpot/api/task/types")).text).toBe("next");
    } finally {
      await prefixed.close();
    }
  });
});
