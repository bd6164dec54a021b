/**
 * The one HTTP error body (`{error: {code, message}}`, ApiError in lib/protocol/api.ts). Handlers
 * throw HttpError; the router turns anything else into a 500 that never leaks a stack.
 */
import type { ApiError } from "../../lib/protocol/api";
import { BrokerUnavailableError } from "../../lib/broker/errors";
import { SearchSyntaxError, TaskQueryError } from "../../lib/state";

export type ErrorCode =
  | "bad_request"
  | "bad_search"
  | "unauthorized"
  | "read_only"
  | "worker_error"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "internal"
  | "timeout"
  | "broker_unavailable";

export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** extra top-level keys for the body (e.g. the worker replies of a failed control command) */
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, "bad_request", message);
export const notFound = (message: string): HttpError => new HttpError(404, "not_found", message);
export const conflict = (message: string): HttpError => new HttpError(409, "conflict", message);

export function errorBody(err: HttpError): ApiError & Record<string, unknown> {
  return { error: { code: err.code, message: err.message }, ...err.extra };
}


/** Map any throw to an HttpError; unknown throws become a generic 500 (the caller logs them). */
export function toHttpError(err: unknown): { error: HttpError; unexpected: boolean } {
  if (err instanceof HttpError) return { error: err, unexpected: false };
  // lib/state's query errors carry Flower's messages; Flower gave 500 for TaskQueryError, Petal a clear 400.
  if (err instanceof SearchSyntaxError) return { error: new HttpError(400, "bad_search", err.message), unexpected: false };
  if (err instanceof TaskQueryError) return { error: new HttpError(400, "bad_request", err.message), unexpected: false };
  if (err instanceof BrokerUnavailableError) return { error: new HttpError(503, "broker_unavailable", err.message), unexpected: false };
  return { error: new HttpError(500, "internal", "Internal server error"), unexpected: true };
}
