/**
 * bench:ingest's view from Redis: how close Petal's subscriber came to the pub/sub output
 * buffer limit (client-output-buffer-limit pubsub 32mb 8mb 60) and whether it was dropped.
 * Samples CLIENT LIST TYPE pubsub and INFO every 50 ms while a step runs.
 */
import type { Redis } from "ioredis";

export interface RedisProbeResult {
  /** largest omem seen on a pattern subscriber, bytes */
  maxOmem: number;
  /** largest INFO client_recent_max_output_buffer seen, bytes */
  maxRecentOutBuf: number;
  /** distinct pattern-subscriber client ids seen (more than 1: it reconnected) */
  subscriberIdsSeen: number;
  /** growth of INFO stats client_output_buffer_limit_disconnections, null when Redis has no such field */
  limitDisconnections: number | null;
}

export interface RedisProbe {
  start(): Promise<void>;
  stop(): Promise<RedisProbeResult>;
  /** the disconnect counter field of INFO stats with its value, or null when absent */
  limitField(): Promise<string | null>;
}

const LIMIT_FIELD = "client_output_buffer_limit_disconnections";

function infoField(info: string, field: string): number | null {
  const m = new RegExp(`^${field}:(\\d+)`, "m").exec(info);
  return m ? Number(m[1]) : null;
}

export function probeRedis(redis: Redis): RedisProbe {
  const ids = new Set<string>();
  let maxOmem = 0;
  let maxRecent = 0;
  let startLimit: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const list = (await redis.call("CLIENT", "LIST", "TYPE", "pubsub")) as string;
      for (const line of list.split("\n")) {
        if (!/\bpsub=[1-9]/.test(line)) continue;
        const id = /\bid=(\d+)/.exec(line)?.[1];
        const name = /\bname=(\S*)/.exec(line)?.[1] ?? "";
        // Petal's ingest subscriber: "petal-ingest" off the main thread, the broker's unnamed
        // subscriber with --mode main (nothing else pattern-subscribes in this bench).
        if (name !== "petal-ingest" && name !== "") continue;
        if (id) ids.add(id);
        maxOmem = Math.max(maxOmem, Number(/\bomem=(\d+)/.exec(line)?.[1] ?? 0));
      }
      maxRecent = Math.max(maxRecent, infoField((await redis.info("clients")) as string, "client_recent_max_output_buffer") ?? 0);
    } finally {
      busy = false;
    }
  };
  const limitNow = async () => infoField((await redis.info("stats")) as string, LIMIT_FIELD);
  return {
    async start() {
      startLimit = await limitNow();
      await sample();
      timer = setInterval(() => void sample().catch(() => undefined), 50);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sample();
      const end = await limitNow();
      return {
        maxOmem,
        maxRecentOutBuf: maxRecent,
        subscriberIdsSeen: Math.max(1, ids.size),
        limitDisconnections: end === null || startLimit === null ? null : end - startLimit,
      };
    },
    async limitField() {
      const v = await limitNow();
      return v === null ? null : `${LIMIT_FIELD}:${v}`;
    },
  };
}
