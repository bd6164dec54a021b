/**
 * The broker port and its transports. createBroker is the one place a URL becomes a transport.
 */
import { MemoryBroker } from "./memory/index";
import type { Broker } from "./types";

export type * from "./types";
export { BrokerClosedError } from "./errors";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory/index";

/** URL schemes createBroker understands today. */
export const SUPPORTED_BROKER_SCHEMES = ["memory:"] as const;

/**
 * A broker for `url`: "memory://" (the embedded in-process broker). redis:// / rediss:// arrive
 * with the Redis transport (next issue). Errors name only the scheme, never the rest of the URL
 * (it may hold a password).
 */
export function createBroker(url: string): Broker {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(typeof url === "string" ? url.trim() : "");
  if (!m) throw new Error(`invalid broker URL (expected e.g. "memory://"): no scheme found`);
  const scheme = m[1].toLowerCase();
  switch (scheme) {
    case "memory":
      return new MemoryBroker();
    case "redis":
    case "rediss":
      throw new Error(`broker scheme "${scheme}://" is not implemented yet: the Redis transport comes in the next issue; use "memory://" for now`);
    default:
      throw new Error(`unsupported broker scheme "${scheme}://" (supported: memory://)`);
  }
}
