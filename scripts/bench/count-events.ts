/**
 * Bench child (scripts/bench-engine.ts): counts `task-succeeded` events (task.multi batches
 * included) on its own event loop, so decoding every event does not slow the client being
 * measured. Prints "ready" once subscribed, then "done <epoch ms>" when the n-th arrives and
 * "progress <count>" every 500 ms.
 * Usage: node --import tsx scripts/bench/count-events.ts <redis-url> <n>
 */
import { RedisBroker } from "../../lib/broker/redis/index";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!url || !(n > 0)) throw new Error("usage: count-events.ts <redis-url> <n>");

const broker = new RedisBroker(url, { onError: () => undefined });
await broker.connect();
let count = 0;
const sub = await broker.subscribeEvents(({ events }) => {
  for (const e of events) {
    if ((e as { type?: unknown }).type !== "task-succeeded") continue;
    if (++count === n) {
      process.stdout.write(`done ${Date.now()}\n`);
      clearInterval(progress);
      void sub.close().then(() => broker.close());
    }
  }
});
const progress = setInterval(() => process.stdout.write(`progress ${count}\n`), 500);
process.stdout.write("ready\n");
