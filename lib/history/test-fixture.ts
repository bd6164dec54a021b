/** Random but reproducible task traffic for history tests and the benchmark. */
import type { TaskEvent } from "../protocol/types";
import { taskEv } from "../state/test-events";
import { seededRng } from "../testing/rng";

export const NAMES = ["proj.add", "proj.mul", "proj.fail", "Proj.Slow", "billing.charge", "mail.send"];
export const WORKERS = ["w1@host1", "w2@host1", "W3@host2", "w4@host2"];

/** The same tasks every run. */
export const rng = seededRng;

export function uuidOf(i: number): string {
  const h = i.toString(16).padStart(12, "0");
  return `${(i * 2654435761 >>> 0).toString(16).padStart(8, "0")}-0000-4000-8000-${h}`;
}

/** The events of task `i`: received, maybe started, maybe finished (success/failure/revoked). */
export function taskEvents(i: number, t: number, rand: () => number): TaskEvent[] {
  const uuid = uuidOf(i);
  const name = NAMES[Math.floor(rand() * NAMES.length)];
  const host = WORKERS[Math.floor(rand() * WORKERS.length)];
  const x = Math.floor(rand() * 1000);
  const evs: TaskEvent[] = [
    taskEv("task-received", uuid, { hostname: host, timestamp: t, clock: 1 }, { name, args: `(${x}, ${i % 7})`, kwargs: `{'user': 'u${x % 13}', 'n': ${i % 5}}` }),
  ];
  const r = rand();
  if (r < 0.1) return evs;
  evs.push(taskEv("task-started", uuid, { hostname: host, timestamp: t + 0.01, clock: 2 }));
  if (r < 0.2) return evs;
  const runtime = Math.round(rand() * 5000) / 1000;
  if (r < 0.8) evs.push(taskEv("task-succeeded", uuid, { hostname: host, timestamp: t + 0.02 + runtime, clock: 3 }, { result: `'ok-${x}'`, runtime }));
  else if (r < 0.95) evs.push(taskEv("task-failed", uuid, { hostname: host, timestamp: t + 0.02 + runtime, clock: 3 }, { exception: `ValueError('bad ${x}')` }));
  else evs.push(taskEv("task-revoked", uuid, { hostname: host, timestamp: t + 0.03, clock: 3 }, { terminated: true, signum: 15 }));
  return evs;
}
