/**
 * Bench child (scripts/bench-engine.ts): a Petal Worker on its own event loop, so the client
 * that enqueues and the worker that runs never compete for one loop. `bench.noop` stores its
 * result like every other system in the bench. Prints "ready" once consuming; SIGTERM stops it.
 * Usage: node --import tsx scripts/bench/petal-worker.ts <redis-url> <concurrency>
 */
import { RedisBroker, RedisResultBackend } from "../../lib/broker/redis/index";
import { TaskRegistry, Worker } from "../../lib/engine/index";

const [url, conc] = process.argv.slice(2);
if (!url || !conc) throw new Error("usage: petal-worker.ts <redis-url> <concurrency>");

const broker = new RedisBroker(url);
// Same server: results share the broker's command connection (one socket write per loop turn).
const results = new RedisResultBackend(url, { shareConnection: broker });
const registry = new TaskRegistry();
registry.register("bench.noop", async () => null);
await broker.connect();
const worker = new Worker({ broker, results, registry, concurrency: Number(conc), hostname: `bench-c${conc}@%h`, sendEvents: true });
await worker.start();
process.stdout.write("ready\n");

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await worker.stop({ graceful: true, timeoutMs: 2000 });
    await Promise.allSettled([broker.close(), results.close()]);
    process.exit(0);
  })();
});
