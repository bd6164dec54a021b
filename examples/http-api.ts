/**
 * A tiny upload API that hands the slow part to a worker: POST /upload enqueues videos.process
 * through Petal's Client (Celery protocol v2 on Redis) and answers 202 {"task_id"} at once;
 * GET /tasks/<id> reads the result backend.
 *
 *   BROKER_URL=redis://127.0.0.1:6379/0 node --import tsx examples/http-api.ts
 *   curl -X POST localhost:8000/upload -H 'content-type: application/json' -d '{"path":"/data/cat.mp4"}'
 */
import http from "node:http";
import { createBroker } from "../lib/broker/index";
import { RedisResultBackend } from "../lib/broker/redis/results";
import { Client } from "../lib/engine/index";

const BROKER_URL = process.env.BROKER_URL ?? "redis://127.0.0.1:6379/0";
/** (default: 8000) */
const PORT = Number(process.env.PORT ?? 8000);
/** request bodies above this are refused (default: 64 KiB) */
const MAX_BODY = 64 * 1024;

const broker = createBroker(BROKER_URL);
const results = new RedisResultBackend(BROKER_URL);
const client = new Client({ broker, results });

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RangeError("body too large");
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

const server = http.createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "POST" && url.pathname === "/upload") {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch {
        return send(res, 400, { error: "expected a JSON body like {\"path\": \"/data/cat.mp4\"}" });
      }
      const path = body && typeof body === "object" ? (body as { path?: unknown }).path : undefined;
      if (typeof path !== "string" || path === "") return send(res, 400, { error: "path must be a non-empty string" });
      const result = await client.sendTask("videos.process", [path], {}, { queue: "videos" });
      return send(res, 202, { task_id: result.id });
    }
    const m = /^\/tasks\/([\w-]+)$/.exec(url.pathname);
    if (req.method === "GET" && m) {
      const meta = await client.asyncResult(m[1]).meta();
      return send(res, 200, { task_id: m[1], state: meta?.status ?? "PENDING", result: meta?.result ?? null });
    }
    send(res, 404, { error: "try POST /upload or GET /tasks/<id>" });
  })().catch((err: unknown) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, { error: "internal error" });
  });
});

await broker.connect();
server.listen(PORT, "127.0.0.1", () => console.log(`upload API on http://127.0.0.1:${PORT} (broker ${BROKER_URL.replace(/\/\/[^@]*@/, "//***@")})`));

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    server.close();
    void Promise.allSettled([results.close(), broker.close()]).then(() => process.exit(0));
  });
}
