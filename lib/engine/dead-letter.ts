/**
 * Dead letters leave the worker through the broker (Broker.deadLetter), so a dashboard in
 * another process lists them too; the in-process onDeadLetter hook stays for embedders.
 */
import type { Broker, DeadLetterEntry } from "../broker/types";
import type { DeadLetter } from "./worker-options";

export function deadLetterEntry(d: DeadLetter, worker: string): DeadLetterEntry {
  let raw: string;
  try {
    raw = JSON.stringify(d.envelope) ?? String(d.envelope);
  } catch {
    // A cyclic or BigInt-bearing object can only come from an in-process publisher.
    raw = String(d.envelope);
  }
  return { at: Date.now() / 1000, queue: d.queue, reason: d.reason, code: d.code, raw, worker, taskId: d.taskId };
}

/** Store it on the broker when the transport can; failures go to `onError`, never thrown. */
export function storeDeadLetter(broker: Broker, d: DeadLetter, worker: string, onError: (err: unknown) => void): void {
  if (!broker.deadLetter) return;
  broker.deadLetter(deadLetterEntry(d, worker)).catch(onError);
}
