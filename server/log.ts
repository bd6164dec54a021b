/**
 * The server's logger: one line per message on stderr (stdout stays free for the start banner
 * and for tools that pipe it). Deliberately tiny: no dependency, no async transport, so logging
 * never reorders with process exit.
 */
import type { Logger } from "./context";

export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  /** lowest level written (default: "info") */
  level?: LogLevel;
  /** where lines go (default: process.stderr) */
  write?: (line: string) => void;
  /** prefix each line with an ISO time (default: true) */
  time?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger & { level: LogLevel } {
  const min = RANK[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line + "\n"));
  const time = opts.time ?? true;
  const emit = (level: LogLevel, msg: string, extra?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    let line = (time ? new Date().toISOString() + " " : "") + level.toUpperCase().padEnd(5) + " " + msg;
    if (extra) {
      for (const [k, v] of Object.entries(extra)) line += " " + k + "=" + formatValue(v);
    }
    write(line);
  };
  return {
    level: opts.level ?? "info",
    debug: (m, e) => emit("debug", m, e),
    info: (m, e) => emit("info", m, e),
    warn: (m, e) => emit("warn", m, e),
    error: (m, e) => emit("error", m, e),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.stack ?? v.message);
  if (typeof v === "string") return /^[\w.:@/+-]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Hide the password of a URL (redis://user:secret@host) before it is printed or sent to a browser. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, "$1***@");
}
