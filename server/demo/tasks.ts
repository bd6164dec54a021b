/**
 * Demo task handlers: they sleep for their runtime (honouring the AbortSignal, so revoke with
 * terminate and shutdown stop them at once), then succeed, fail or retry themselves. The
 * overrides in catalog.ts make outcomes exact for end-to-end tests.
 */
import type { TaskContext, TaskRegistry } from "../../lib/engine/registry";
import { DEMO_TASKS, ValueError, type DemoTaskDef } from "./catalog";
import { sleep, type Rng } from "./random";

/** Longest `duration_ms` accepted, so a typo cannot park a slot for days (default: 1 h). */
export const MAX_OVERRIDE_MS = 3_600_000;

/** Keys of `fail_once_key` already seen; bounded, oldest forgotten first. */
export class SeenKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max = 10_000) {}

  /** true the first time `key` is seen */
  first(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}

const OVERRIDES = ["duration_ms", "fail", "fail_once_key"] as const;

function isOverridden(kw: Record<string, unknown>): boolean {
  return OVERRIDES.some((k) => kw[k] !== undefined);
}

function overrideMs(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.min(v, MAX_OVERRIDE_MS) : null;
}

/** The handler of one demo task name. */
export function demoHandler(def: DemoTaskDef, rng: Rng, seen: SeenKeys) {
  const selfRetry = def.failures.find((f) => f.retry)?.retry ?? null;
  return async (ctx: TaskContext): Promise<unknown> => {
    const kw = ctx.kwargs;
    if (isOverridden(kw)) {
      await sleep(overrideMs(kw.duration_ms) ?? def.runtime(rng), ctx.signal);
      if (kw.fail === true) throw new ValueError(`${def.name} failed on request (fail: true)`);
      if (typeof kw.fail_once_key === "string" && seen.first(kw.fail_once_key)) {
        const err = new ValueError(`${def.name} failed once on request (fail_once_key: ${kw.fail_once_key})`);
        if (selfRetry && kw.no_retry !== true) {
          const countdown = overrideMs(typeof kw.retry_countdown === "number" ? kw.retry_countdown * 1000 : 1000)! / 1000;
          ctx.retry({ countdown, exc: err, maxRetries: Math.max(1, selfRetry.max) });
        }
        throw err;
      }
      return def.result(ctx.args, kw, rng);
    }

    const runtime = def.runtime(rng);
    for (const f of def.failures) {
      if (rng() >= f.rate) continue;
      // Failures surface part-way through the work, as real ones do.
      await sleep(Math.round(runtime * (0.2 + 0.8 * rng())), ctx.signal);
      const err = f.error(rng);
      if (f.retry && kw.no_retry !== true && ctx.retries < f.retry.max) {
        ctx.retry({ countdown: f.retry.baseSeconds * 2 ** ctx.retries, exc: err, maxRetries: f.retry.max });
      }
      throw err;
    }
    await sleep(runtime, ctx.signal);
    return def.result(ctx.args, kw, rng);
  };
}

/** Register every demo task on `registry` (each worker shares one registry). */
export function registerDemoTasks(registry: TaskRegistry, rng: Rng, seen = new SeenKeys()): string[] {
  for (const def of DEMO_TASKS) {
    registry.register(def.name, demoHandler(def, rng, seen), {
      queue: def.queue,
      // Retries are decided by the handler (ctx.retry with its own backoff), not autoretry.
      maxRetries: def.failures.reduce((m, f) => Math.max(m, f.retry?.max ?? 0), 1),
    });
  }
  // A no-op for `npm run bench:latency`: its runtime is noise-free, so latency is all Petal's.
  registry.register("bench.noop", (ctx) => ctx.args[0] ?? null);
  return [...DEMO_TASKS.map((d) => d.name), "bench.noop"];
}
