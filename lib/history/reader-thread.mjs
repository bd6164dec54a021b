// The history reader thread's entry (see writer-thread.mjs for why it is plain JS).
import { parentPort, workerData } from "node:worker_threads";

const { register } = await import("tsx/esm/api");
register();
const { ReadExecutor } = await import("./read-executor.ts");

const executor = new ReadExecutor(workerData.file);
parentPort.on("message", (op) => {
  if (op === "close") {
    executor.close();
    parentPort.close();
    return;
  }
  parentPort.postMessage(executor.run(op));
});
