/**
 * The public protocol API: Celery's wire format (task messages, events, control) and the shapes
 * the server hands the browser. Browser-safe; import from here rather than from the files.
 */
export * from "./types";
export * from "./api";
export * from "./envelope";
export * from "./task-message";
export * from "./repr";
export * from "./events";
export * from "./control";
