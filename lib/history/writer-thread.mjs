// The history writer thread's entry. Plain JS so it starts under any loader: it registers tsx
// itself (already active when the parent runs with --import tsx, needed under vitest) and then
// runs executor.ts, answering each WriteOp with one WriteReply in order.
import { parentPort, workerData } from "node:worker_threads";

const { register } = await import("tsx/esm/api");
register();
const { Executor } = await import("./executor.ts");

let executor;
try {
  executor = new Executor(workerData.file);
  parentPort.postMessage({ ready: true });
} catch (e) {
  parentPort.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
parentPort.on("message", (op) => {
  const reply = executor.run(op);
  parentPort.postMessage(reply);
  if (op.kind === "close") parentPort.close();
});
