/**
 * The events' encoder: pythonJsonDumps itself now takes the fast native path (envelope.ts), so
 * this name stays only for the Redis transport's callers and tests.
 */
export { pythonJsonDumps as fastPythonJsonDumps } from "../../protocol/envelope";
