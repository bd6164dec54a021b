import { describe, expect, it, vi } from "vitest";
import { postApi, retryTask, revokeTask, shrinkPool } from "./actions";

function respond(status: number, body: string) {
  return vi.fn(async (_url: string, _init?: RequestInit) => new Response(body, { status }));
}

describe("actions", () => {
  it("sends revoke with terminate and signal as query params", async () => {
    const f = respond(200, JSON.stringify({ message: "Revoked 'abc'" }));
    const r = await revokeTask("abc", true, "SIGKILL", f);
    expect(r).toEqual({ ok: true, message: "Revoked 'abc'", value: { message: "Revoked 'abc'" } });
    expect(f.mock.calls[0]?.[0]).toBe("/api/task/revoke/abc?terminate=true&signal=SIGKILL");
    expect(f.mock.calls[0]?.[1]?.method).toBe("POST");
  });

  it("returns the new id of a retry", async () => {
    const f = respond(200, JSON.stringify({ "task-id": "new-1", retry_of: "old" }));
    const r = await retryTask("old", f);
    expect(r.ok && r.value).toBe("new-1");
    const bad = await retryTask("old", respond(200, "{}"));
    expect(bad.ok).toBe(false);
  });

  it("reads Petal's error body, Flower's plain text, and falls back on the status", async () => {
    const petal = await postApi("/api/x", {}, respond(403, JSON.stringify({ error: { code: "read_only", message: "Read only mode is enabled" } })));
    expect(petal).toEqual({ ok: false, status: 403, message: "Read only mode is enabled" });
    const flower = await shrinkPool("w@h", 5, respond(403, "Failed to shrink 'w@h' worker's pool"));
    expect(flower.ok ? "" : flower.message).toBe("Failed to shrink 'w@h' worker's pool");
    const empty = await postApi("/api/x", {}, respond(404, ""));
    expect(empty.ok ? "" : empty.message).toMatch(/Not found/);
  });

  it("encodes worker names and reports network errors", async () => {
    const f = respond(200, "{}");
    await shrinkPool("w1@host 1", 2, f);
    expect(f.mock.calls[0]?.[0]).toBe("/api/worker/pool/shrink/w1%40host%201?n=2");
    const down = await postApi("/api/x", {}, async () => {
      throw new TypeError("Failed to fetch");
    });
    expect(down).toEqual({ ok: false, status: 0, message: "Network error: Failed to fetch" });
  });
});
