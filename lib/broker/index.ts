/**
 * The broker port and its transports. createBroker is the one place a URL becomes a transport.
 */
import { MemoryBroker } from "./memory/index";
import { RedisBroker, type RedisBrokerOptions } from "./redis/index";
import type { Broker } from "./types";

export type * from "./types";
export { BrokerClosedError, BrokerConnectError, BrokerUnavailableError } from "./errors";
export { untilConnected, type ConnectRetryOptions } from "./connect-retry";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory/index";
export { RedisBroker, type RedisBrokerOptions } from "./redis/index";

/** URL schemes createBroker understands today. */
export const SUPPORTED_BROKER_SCHEMES = ["memory:", "redis:", "rediss:", "sentinel:"] as const;

/**
 * A broker for `url`: "memory://" (the embedded in-process broker), or "redis://", "rediss://",
 * "sentinel://" (kombu-compatible Redis transport; connects lazily, on connect()). Errors name only the scheme, never the rest of the URL
 * (it may hold a password).
 */
export function createBroker(url: string, opts: { redis?: RedisBrokerOptions } = {}): Broker {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(typeof url === "string" ? url.trim() : "");
  if (!m) throw new Error(`invalid broker URL (expected e.g. "memory://"): no scheme found`);
  const scheme = m[1].toLowerCase();
  switch (scheme) {
    case "memory":
      return new MemoryBroker();
    case "redis":
    case "rediss":
    case "sentinel":
      return new RedisBroker(url, opts.redis);
    default:
      throw new Error(`unsupported broker scheme "${scheme}://" (supported: memory://, redis://, rediss://, sentinel://)`);
  }
}
