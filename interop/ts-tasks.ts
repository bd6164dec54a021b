/** Task module for `petal worker` in the interop tests (the default export registers tasks). */
import type { TaskRegistry } from "../lib/engine/index";

export default function register(registry: TaskRegistry): void {
  registry.register("interop.add", (ctx) => Number(ctx.args[0]) + Number(ctx.args[1]));
  /** acks late, like a Celery task with acks_late: a worker killed mid-run leaves it restorable */
  registry.register(
    "interop.sleep",
    (ctx) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(`slept ${ctx.args[0]}`), Number(ctx.args[0]) * 1000);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      }),
    { acksLate: true },
  );
}
