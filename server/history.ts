/**
 * Persistent history for the server: the --db / --no-persist / --retention / --max-history
 * settings (flags over PETAL_* env over defaults) and opening the store on a ClusterState.
 */
import path from "node:path";
import { attachHistory, detachHistory } from "../lib/history/attach";
import { DEFAULT_MAX_ROWS, DEFAULT_RETENTION_SEC, HistoryStore } from "../lib/history/store";
import type { ClusterState } from "../lib/state";
import type { Logger } from "./context";

export interface HistoryConfig {
  /** SQLite file, or null when persistence is off (default: ./.petal/petal.db) */
  file: string | null;
  /** age limit, seconds; null keeps forever (default: 7 d) */
  retentionSec: number | null;
  /** row limit; null: no limit (default: 10,000,000) */
  maxRows: number | null;
}

export const DEFAULT_DB = path.join(".petal", "petal.db");
/** history write errors are logged at most this often (default: 30 s) */
const ERROR_LOG_EVERY_MS = 30_000;

export interface HistoryFlags {
  db?: string;
  persist?: boolean;
  retention?: string;
  maxHistory?: string;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "7d", "12h", "30m", "90s", "2w" or plain seconds; "0", "off", "none", "forever" → null (keep). */
export function parseDuration(raw: string): number | null {
  const v = raw.trim().toLowerCase();
  if (["0", "off", "none", "forever", "never"].includes(v)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/.exec(v);
  if (m === null || !(Number(m[1]) > 0)) throw new Error(`invalid retention ${JSON.stringify(raw)}: expected a duration like 90s, 30m, 12h, 7d or 2w (or off)`);
  return Number(m[1]) * UNITS[m[2] || "s"];
}

function envBool(raw: string | undefined, name: string): boolean | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on", "y", "t"].includes(v)) return true;
  if (["0", "false", "no", "off", "n", "f"].includes(v)) return false;
  throw new Error(`invalid ${name} ${JSON.stringify(raw)}: expected true/false, 1/0, yes/no or on/off`);
}

/** Throws Error with a one-line message on bad values. */
export function resolveHistoryConfig(flags: HistoryFlags, env: Record<string, string | undefined>): HistoryConfig {
  const persist = flags.persist ?? envBool(env.PETAL_PERSIST, "PETAL_PERSIST") ?? true;
  const dbRaw = flags.db ?? (env.PETAL_DB || undefined) ?? DEFAULT_DB;
  if (dbRaw.trim() === "") throw new Error("invalid --db: empty path");
  const retentionRaw = flags.retention ?? (env.PETAL_RETENTION || undefined);
  const retentionSec = retentionRaw === undefined ? DEFAULT_RETENTION_SEC : parseDuration(retentionRaw);
  const maxRaw = flags.maxHistory ?? (env.PETAL_MAX_HISTORY || undefined);
  let maxRows: number | null = DEFAULT_MAX_ROWS;
  if (maxRaw !== undefined) {
    const t = maxRaw.trim().replace(/_/g, "");
    if (t === "0" || t.toLowerCase() === "off") maxRows = null;
    else if (/^\d+$/.test(t)) maxRows = Number(t);
    else throw new Error(`invalid max history ${JSON.stringify(maxRaw)}: expected a row count (or 0 for no limit)`);
  }
  return { file: persist ? dbRaw : null, retentionSec, maxRows };
}

export interface ServerHistory {
  history: HistoryStore;
  close(): Promise<void>;
}

/**
 * Open the history, restore the most recent `maxTasks` tasks and the totals into `state`, and
 * persist every later change. Call before ingest starts, so restored tasks come first and live
 * events win over them.
 */
export async function startHistory(state: ClusterState, cfg: HistoryConfig, maxTasks: number, log: Logger): Promise<ServerHistory | null> {
  if (cfg.file === null) return null;
  let lastErrorLog = 0;
  // eslint-disable-next-line prefer-const -- read by onError, which can only run after open
  let history: HistoryStore | undefined;
  history = await HistoryStore.open({
    file: cfg.file,
    retentionSec: cfg.retentionSec,
    maxRows: cfg.maxRows,
    onError: (err) => {
      // A failing disk fails every 250 ms flush: say so once in a while, not four times a second.
      const now = Date.now();
      if (now - lastErrorLog < ERROR_LOG_EVERY_MS) return;
      lastErrorLog = now;
      log.error("history write failed (will retry)", { err: err.message, pending: history?.stats.pending, dropped: history?.stats.dropped });
    },
  });
  const r = attachHistory(state, history, { maxTasks });
  log.info("history restored", { db: cfg.file, restored: r.restored, rows: r.rows, ms: Math.round(r.ms) });
  // The first retention pass right away: a restart after a long stop should not wait a minute.
  void history.runRetention().catch((err: unknown) => log.warn("history retention failed", { err: String(err) }));
  return {
    history,
    close: async () => {
      detachHistory(state);
      await history.close();
    },
  };
}
