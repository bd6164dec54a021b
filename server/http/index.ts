/** server/http's public surface: the API handler the main server mounts, and the shared auth check. */
export { createHttpHandler, isApiPath, jsonText, MAX_BODY_BYTES, RouteTable } from "./router";
export { authenticate, checkBasicAuth, WWW_AUTHENTICATE, type AuthResult } from "./auth";
export { HttpError } from "./errors";
export { apiRoutes } from "./routes";
export type { Handler, HandlerInput, HandlerResult, Route } from "./types";
