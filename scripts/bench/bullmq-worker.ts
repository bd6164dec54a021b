/**
 * Bench child (scripts/bench-engine.ts): a BullMQ Worker with a no-op processor on its own
 * event loop, BullMQ's defaults otherwise (events stream on, return values kept on the job).
 * Prints "ready" once connected; SIGTERM stops it.
 * Usage: node --import tsx scripts/bench/bullmq-worker.ts <redis-url> <concurrency>
 */
import { Worker } from "bullmq";

const [url, conc] = process.argv.slice(2);
if (!url || !conc) throw new Error("usage: bullmq-worker.ts <redis-url> <concurrency>");
const { hostname, port } = new URL(url);

const worker = new Worker("bench", async () => null, {
  connection: { host: hostname, port: Number(port), maxRetriesPerRequest: null },
  concurrency: Number(conc),
});
await worker.waitUntilReady();
process.stdout.write("ready\n");

process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
