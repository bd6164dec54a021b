/**
 * Framework-free handlers (bull-board's habit): a handler gets validated-ish input and returns
 * `{status, body}`; the route table and the guards in router.ts sit around it.
 */
import type { ServerContext } from "../context";

export interface HandlerInput {
  /** path parameters, already URL-decoded */
  params: Record<string, string>;
  /** query string; on "form" routes the form (or JSON object) body's fields are appended */
  query: URLSearchParams;
  /** the parsed JSON body on "json" routes (undefined when empty); else undefined */
  body: unknown;
  ctx: ServerContext;
  /** the authenticated user, null when auth is off */
  user: string | null;
}

export interface HandlerResult {
  status: number;
  /** JSON-encoded like Python's json.dumps, unless `text` is set */
  body?: unknown;
  /** send this string as is (with its own Content-Type in `headers`) */
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (input: HandlerInput) => Promise<HandlerResult>;

export type Method = "GET" | "POST";

export interface Route {
  method: Method;
  /** e.g. "/api/task/info/:id" (relative to the url prefix) */
  path: string;
  handler: Handler;
  /** changes something: refused in read-only mode (default: true for POST, false for GET) */
  write?: boolean;
  /** answered without auth, like Flower's /healthcheck and /metrics (default: false) */
  open?: boolean;
  /** how a POST body is read: "json" for send routes, "form" merges fields into the query (default: "form") */
  body?: "json" | "form";
}
