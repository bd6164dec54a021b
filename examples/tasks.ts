/**
 * A TypeScript task module for `petal worker --app examples/tasks.ts`.
 *
 * The convention: the default export registers tasks on the registry it is given. With
 * `-P threads` this module is loaded again in every pool thread, so keep its top level cheap
 * and free of side effects (no connections opened at import time).
 */
import { createHash } from "node:crypto";
import type { TaskRegistry } from "../lib/engine/index";

/** Simulated CPU work: hashes `rounds` times (blocks the thread it runs in, as real encoding would). */
function burn(input: string, rounds: number): string {
  let digest = input;
  for (let i = 0; i < rounds; i++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}

export default function register(registry: TaskRegistry): void {
  registry.register(
    "videos.process",
    async (ctx) => {
      const [path] = ctx.args as [string];
      if (typeof path !== "string" || path === "") throw new TypeError("videos.process expects a file path");
      ctx.log(`transcoding ${path}`);
      const digest = burn(path, 300_000); // CPU-bound: run the worker with -P threads
      return { path, renditions: ["1080p", "720p", "480p"], digest: digest.slice(0, 16) };
    },
    { timeLimit: 300, softTimeLimit: 240, queue: "videos" },
  );

  registry.register(
    "images.resize",
    async (ctx) => {
      const { path, width = 640 } = ctx.kwargs as { path?: string; width?: number };
      if (!path) throw new TypeError("images.resize expects kwargs.path");
      // I/O-bound stand-in: waits, but gives up when the worker aborts the task.
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, 200);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      });
      return { path, width };
    },
    { queue: "images", rateLimit: "20/s", maxRetries: 3, retryBackoff: true, autoretryFor: (err) => err instanceof Error && /ECONNRESET/.test(err.message) },
  );
}
