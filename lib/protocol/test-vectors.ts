/**
 * Test helper (node only, never imported by app code): loads the Celery 5.2.6 wire captures
 * from ../shared/celery-protocol/vectors (see its README for the line format).
 */
import fs from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const VECTORS_DIR = path.resolve(REPO_ROOT, "../shared/celery-protocol/vectors");
export const HAVE_VECTORS = fs.existsSync(path.join(VECTORS_DIR, "events.jsonl"));
export const SKIP_REASON = `Celery wire vectors not found at ${VECTORS_DIR}`;

export interface VectorLine {
  channel_or_key: string;
  command: string;
  raw: string;
  decoded: unknown;
  envelope?: Record<string, unknown>;
  args?: string[];
  label: string;
  phase: string;
  ts: number;
}

export type VectorFile = "task-messages" | "events" | "control" | "results" | "inspect-replies";

const cache = new Map<string, unknown[]>();

export function loadLines<T = VectorLine>(file: VectorFile): T[] {
  let lines = cache.get(file);
  if (!lines) {
    const text = fs.readFileSync(path.join(VECTORS_DIR, `${file}.jsonl`), "utf8");
    lines = text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as unknown);
    cache.set(file, lines);
  }
  return lines as T[];
}

export const PAYLOAD_COMMANDS = new Set(["PUBLISH", "LPUSH", "RPUSH"]);

/** Lines that carry a kombu envelope (every payload push/publish except result-backend ones). */
export function envelopeLines(file: Exclude<VectorFile, "inspect-replies">): VectorLine[] {
  return loadLines(file).filter((l) => PAYLOAD_COMMANDS.has(l.command) && !l.channel_or_key.startsWith("celery-task-meta-"));
}
