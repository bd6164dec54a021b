import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterState } from "../state";
import { attachHistory } from "./attach";
import { openDatabase } from "./executor";
import { HistoryStore } from "./store";
import { uuidOf } from "./test-fixture";

const REPO = path.resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Run the child until it has committed at least `minCommitted` finished tasks, then SIGKILL it. */
function runAndKill(file: string, minCommitted: number): Promise<{ committed: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "lib/history/crash-child.ts"), file], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let committed = 0;
    let lines = 0;
    let buf = "";
    let err = "";
    let killed = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child did not commit ${minCommitted} tasks in time (got ${committed}): ${err}`));
    }, 60_000);
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^COMMITTED (\d+)$/.exec(line);
        if (m === null || killed) continue;
        lines++;
        committed = Math.max(committed, Number(m[1]));
        // Kill while it is still writing: a later batch is almost surely in flight.
        if (committed >= minCommitted) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" && killed) resolve({ committed, lines });
      else reject(new Error(`child exited (code ${code}, signal ${signal}) before the kill: ${err}`));
    });
  });
}

describe("history survives kill -9", () => {
  it("keeps every task of every committed batch with its final fields, and a restart restores them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petal-crash-"));
    dirs.push(dir);
    const file = path.join(dir, "petal.db");
    const { committed, lines } = await runAndKill(file, 20_000);
    expect(lines).toBeGreaterThan(1);
    expect(committed).toBeGreaterThanOrEqual(20_000);

    // The WAL is recovered on open; nothing is corrupt.
    const db = openDatabase(file);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = db.prepare("SELECT uuid, state, result, runtime, args, name FROM tasks WHERE uuid = ?");
    const missing: number[] = [];
    for (let i = 0; i < committed; i++) {
      const r = rows.get(uuidOf(i)) as { state: string; result: string; runtime: number; args: string; name: string } | undefined;
      if (r === undefined || r.state !== "SUCCESS" || r.result !== `'r${i}'` || r.runtime !== (i % 100) / 1000 || r.args !== `(${i}, 1)` || r.name !== `crash.t${i % 5}`) missing.push(i);
    }
    expect(missing.slice(0, 5)).toEqual([]);
    db.close();

    const history = await HistoryStore.open({ file, retentionSec: null, thread: false });
    const state = new ClusterState({ maxTasks: 100_000 });
    const r = attachHistory(state, history, { maxTasks: 100_000 });
    expect(r.restored).toBeGreaterThanOrEqual(committed);
    expect(state.getTask(uuidOf(committed - 1))?.state).toBe("SUCCESS");
    // Totals commit in the same transaction as the tasks they count.
    expect(state.overview().totals.succeeded).toBeGreaterThanOrEqual(committed);
    expect(state.queryTasks({ state: ["SUCCESS"], limit: 1 }).total).toBeGreaterThanOrEqual(committed);
    await history.close();
  }, 90_000);
});
