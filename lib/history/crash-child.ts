/**
 * Child process for the kill -9 test (crash.test.ts): ingests task events into a ClusterState
 * with history attached, as fast as it can, and prints `COMMITTED n` whenever a batch commits in
 * which tasks 0..n-1 were already finished (their final event applied before the batch was
 * built). The parent SIGKILLs it mid-ingest and checks the database.
 *
 *   node --import tsx lib/history/crash-child.ts <db file>
 */
import { ClusterState } from "../state";
import { taskEv } from "../state/test-events";
import { attachHistory } from "./attach";
import { HistoryStore } from "./store";
import { uuidOf } from "./test-fixture";

const file = process.argv[2];
if (!file) throw new Error("usage: crash-child.ts <db file>");

const state = new ClusterState({ maxTasks: 50_000 });
const history = await HistoryStore.open({ file, flushMs: 50, retentionSec: null });
attachHistory(state, history, { maxTasks: 50_000 });

/** tasks whose final event has been applied: 0..finished-1 */
let finished = 0;
let inBatch = 0;
history.onFlush(() => {
  inBatch = finished;
});
history.onCommit(() => process.stdout.write(`COMMITTED ${inBatch}\n`));

const PER_TICK = 1000;
let next = 0;
const t0 = 1_700_000_000;
function tick(): void {
  // Each tick receives PER_TICK new tasks and finishes the previous tick's: a task's events
  // straddle ticks (and often flushes), as real traffic does.
  const evs = [];
  for (let k = 0; k < PER_TICK; k++) {
    const i = next + k;
    evs.push(taskEv("task-received", uuidOf(i), { timestamp: t0 + i / 1000, clock: 1 }, { name: `crash.t${i % 5}`, args: `(${i}, 1)`, kwargs: `{'i': ${i}}` }));
    evs.push(taskEv("task-started", uuidOf(i), { timestamp: t0 + i / 1000 + 0.001, clock: 2 }));
  }
  for (let k = 0; k < PER_TICK && next - PER_TICK + k >= 0; k++) {
    const i = next - PER_TICK + k;
    evs.push(taskEv("task-succeeded", uuidOf(i), { timestamp: t0 + i / 1000 + 0.002, clock: 3 }, { result: `'r${i}'`, runtime: (i % 100) / 1000 }));
  }
  state.ingest(evs);
  finished = Math.max(0, next);
  next += PER_TICK;
  setImmediate(tick);
}
process.stdout.write("READY\n");
tick();
