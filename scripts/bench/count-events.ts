/**
 * Bench child (scripts/bench-engine.ts): counts `task-succeeded` events (task.multi batches
 * included) on its own event loop, so counting does not slow the client being measured.
 * Prints "ready" once subscribed, then "done <epoch ms>" when the n-th arrives and
 * "progress <count>" every 500 ms.
 *
 * It counts, it does not decode: each payload's base64 body is sliced out of the kombu envelope
 * (kombu writes `body` first), decoded, and the event type is counted as text. Both Celery and
 * Petal write events in Python's JSON spelling (`"type": "task-succeeded"`); a string value
 * holding those words is escaped (`\"type\"`) so it cannot be miscounted. Full decoding cost
 * this process about as much CPU as the worker's event encoding, on the same 2 cores.
 * Usage: node --import tsx scripts/bench/count-events.ts <redis-url> <n>
 */
import { Redis } from "ioredis";
import { KeyMap, parseRedisUrl } from "../../lib/broker/redis/index";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!url || !(n > 0)) throw new Error("usage: count-events.ts <redis-url> <n>");

const parsed = parseRedisUrl(url);
const keys = new KeyMap("", parsed.db);
const sub = new Redis({ ...parsed.options, lazyConnect: false });
const BODY_FIRST = '{"body": "';
const NEEDLE = '"type": "task-succeeded"';

function succeededIn(message: string): number {
  if (!message.startsWith(BODY_FIRST)) return 0;
  const end = message.indexOf('"', BODY_FIRST.length);
  if (end < 0) return 0;
  const text = Buffer.from(message.slice(BODY_FIRST.length, end), "base64").toString("latin1");
  let count = 0;
  for (let i = text.indexOf(NEEDLE); i >= 0; i = text.indexOf(NEEDLE, i + NEEDLE.length)) count++;
  return count;
}

let count = 0;
let finished = false;
sub.on("pmessage", (_pattern: string, _channel: string, message: string) => {
  if (finished) return;
  count += succeededIn(message);
  if (count >= n) {
    finished = true;
    process.stdout.write(`done ${Date.now()}\n`);
    clearInterval(progress);
    void sub.quit();
  }
});
await sub.psubscribe(keys.eventPattern);
const progress = setInterval(() => process.stdout.write(`progress ${count}\n`), 500);
process.stdout.write("ready\n");
