/** Helpers of the broker conformance suite (conformance.ts); test-only. */
import { uuid4 } from "../protocol/envelope";
import { buildTaskMessage } from "../protocol/task-message";
import type { Envelope } from "../protocol/types";
import type { Delivery } from "./types";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export const unique = (tag: string) => `conformance.${tag}.${uuid4().slice(0, 8)}`;
export const idOf = (d: Delivery) => d.envelope.headers.id as string;
export const argOf = (d: Delivery) => (d.envelope.headers.argsrepr as string).replace(/[(,)]/g, "");

export function task(queue: string, n: number | string): Envelope {
  return buildTaskMessage("conformance.task", { args: [n], queue, origin: "conformance@test" });
}

export function heartbeat(hostname: string, n: number): object {
  return { hostname, utcoffset: 0, pid: 1, clock: n, freq: 2, active: 0, processed: n, loadavg: [0, 0, 0], sw_ident: "conformance", sw_ver: "0", sw_sys: "Linux", timestamp: Date.now() / 1000, type: "worker-heartbeat" };
}

export function taskStarted(hostname: string, uuid: string): object {
  return { hostname, utcoffset: 0, pid: 1, clock: 1, uuid, timestamp: Date.now() / 1000, type: "task-started" };
}

export const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
