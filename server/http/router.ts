/**
 * The route table and its guards: url prefix, CORS (only without auth, like Flower), OPTIONS,
 * basic auth, 405, read-only, body parsing, one error body, ETag/304. No framework.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pythonJsonDumps } from "../../lib/protocol/envelope";
import type { ServerContext } from "../context";
import { authenticate, WWW_AUTHENTICATE } from "./auth";
import { errorBody, HttpError, toHttpError } from "./errors";
import { apiRoutes } from "./routes";
import type { HandlerResult, Method, Route } from "./types";

export { authenticate, checkBasicAuth, WWW_AUTHENTICATE } from "./auth";
export type { AuthResult } from "./auth";

/** Largest request body read, bytes (default: 1 MiB). */
export const MAX_BODY_BYTES = 1 << 20;

const JSON_TYPE = "application/json; charset=UTF-8";
const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "x-requested-with,access-control-allow-origin,authorization,content-type",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS, HEAD",
};

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class RouteTable {
  private readonly compiled: CompiledRoute[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split("/").filter(Boolean) }));
  }

  /** Routes whose pattern matches the path (any method). Throws 400 on a badly encoded segment. */
  match(path: string): RouteMatch[] {
    const parts = path.split("/").filter(Boolean);
    const out: RouteMatch[] = [];
    for (const c of this.compiled) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = c.segments[i]!;
        if (seg.startsWith(":")) params[seg.slice(1)] = decodeSegment(parts[i]!);
        else ok = seg === parts[i];
      }
      if (ok) out.push({ route: c.route, params });
    }
    return out;
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, "bad_request", `Badly encoded path segment '${s}'`);
  }
}

export function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/, "");
  if (p === "") return "";
  return p.startsWith("/") ? p : "/" + p;
}

/** Paths this layer answers; everything else goes to Next. */
export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/") || path === "/healthcheck" || path === "/metrics";
}

/**
 * Build the request handler. It resolves false (and touches nothing) when the path is not an
 * API route, so the caller can hand the request to Next.
 */
export function createHttpHandler(
  ctx: ServerContext,
  routes: Route[] = apiRoutes,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const table = new RouteTable(routes);
  const prefix = normalizePrefix(ctx.config.urlPrefix);

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://petal.local");
    let path = url.pathname;
    if (prefix) {
      if (path !== prefix && !path.startsWith(prefix + "/")) return false;
      path = path.slice(prefix.length) || "/";
    }
    if (path.length > 1) path = path.replace(/\/+$/, "");
    if (!isApiPath(path)) return false;

    const cors = !ctx.config.basicAuth;
    const method = (req.method ?? "GET").toUpperCase();
    try {
      const matches = table.match(path);
      if (method === "OPTIONS") {
        // Preflights carry no credentials, so they are answered before auth.
        send(res, 204, null, { ...(cors ? CORS_HEADERS : {}), Allow: allowOf(matches) });
        return true;
      }
      const open = matches.length > 0 && matches.every((m) => m.route.open);
      let user: string | null = null;
      if (!open) {
        const auth = authenticate(req, ctx.config);
        if (!auth.ok) {
          throw new HttpError(401, "unauthorized", "Authentication required", {
            headers: { "WWW-Authenticate": WWW_AUTHENTICATE },
          });
        }
        user = auth.user;
      }
      if (matches.length === 0) throw new HttpError(404, "not_found", `Unknown API path '${path}'`);
      const wanted: Method | null = method === "HEAD" ? "GET" : method === "GET" || method === "POST" ? method : null;
      const match = matches.find((m) => m.route.method === wanted);
      if (!match) {
        throw new HttpError(405, "method_not_allowed", `Method ${method} not allowed on '${path}'`, {
          headers: { Allow: allowOf(matches) },
        });
      }
      const { route, params } = match;
      if ((route.write ?? route.method === "POST") && ctx.config.readOnly) {
        throw new HttpError(403, "read_only", "Read only mode is enabled");
      }
      const query = url.searchParams;
      let body: unknown;
      if (route.method === "POST") body = await readBody(req, route.body ?? "form", query);
      const result = await route.handler({ params, query, body, ctx, user });
      respond(req, res, method, result, cors);
    } catch (err) {
      const { error, unexpected } = toHttpError(err);
      if (unexpected) {
        ctx.log.error("http handler failed", {
          method,
          path,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      const text = jsonText(errorBody(error));
      send(res, error.status, method === "HEAD" ? null : text, {
        ...(cors ? CORS_HEADERS : {}),
        ...error.headers,
        "Content-Type": JSON_TYPE,
        "Content-Length": String(Buffer.byteLength(text)),
      });
    }
    return true;
  };
}

function allowOf(matches: RouteMatch[]): string {
  const methods = new Set<string>(["OPTIONS"]);
  for (const m of matches) {
    methods.add(m.route.method);
    if (m.route.method === "GET") methods.add("HEAD");
  }
  return [...methods].join(", ");
}

/** Python json.dumps text, plus Tornado's `</` → `<\/` so JSON can never close a script tag. */
export function jsonText(value: unknown): string {
  return pythonJsonDumps(value).replace(/<\//g, "<\\/");
}

function respond(req: IncomingMessage, res: ServerResponse, method: string, result: HandlerResult, cors: boolean): void {
  const headers: Record<string, string> = { ...(cors ? CORS_HEADERS : {}) };
  let text: string;
  if (result.text !== undefined) {
    text = result.text;
  } else {
    text = jsonText(result.body ?? null);
    headers["Content-Type"] = JSON_TYPE;
    if ((method === "GET" || method === "HEAD") && result.status === 200) {
      const etag = '"' + createHash("sha1").update(text).digest("hex") + '"';
      headers.Etag = etag;
      if (etagMatches(req.headers["if-none-match"], etag)) {
        send(res, 304, null, { ...headers, ...result.headers, "Content-Type": "" });
        return;
      }
    }
  }
  Object.assign(headers, result.headers);
  headers["Content-Length"] = String(Buffer.byteLength(text));
  send(res, result.status, method === "HEAD" ? null : text, headers);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function send(res: ServerResponse, status: number, text: string | null, headers: Record<string, string>): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) if (v !== "") res.setHeader(k, v);
  res.end(text ?? undefined);
}

async function readBody(req: IncomingMessage, kind: "json" | "form", query: URLSearchParams): Promise<unknown> {
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        parts.push(chunk);
        return;
      }
      // Keep discarding the rest (destroying the request would reset the socket before the 413
      // is read); "Connection: close" then ends this connection once the answer is sent.
      req.off("data", onData);
      req.resume();
      reject(
        new HttpError(413, "payload_too_large", `Body larger than ${MAX_BODY_BYTES} bytes`, {
          headers: { Connection: "close" },
        }),
      );
    };
    req.on("data", onData);
    req.once("end", () => resolve(parts));
    req.once("error", reject);
  });
  const raw = Buffer.concat(chunks).toString("utf8");
  const type = String(req.headers["content-type"] ?? "").toLowerCase();
  if (kind === "json") {
    if (raw.trim() === "") return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new HttpError(400, "bad_request", "Invalid JSON body");
    }
  }
  if (raw.trim() === "") return undefined;
  // Control routes read query string or form body (Flower's get_argument); a JSON object works too.
  if (type.includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new HttpError(400, "bad_request", "Invalid JSON body");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new HttpError(400, "bad_request", "JSON body must be an object");
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (v !== null && v !== undefined && typeof v !== "object") query.append(k, String(v));
    }
    return undefined;
  }
  for (const [k, v] of new URLSearchParams(raw)) query.append(k, v);
  return undefined;
}
