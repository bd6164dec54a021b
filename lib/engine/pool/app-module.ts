/**
 * The task module convention (`petal worker --app ./tasks.ts`): the module's default export is
 * a function that registers its tasks on the registry it is given,
 *
 *   export default function register(registry: TaskRegistry) {
 *     registry.register("images.resize", async (ctx) => …, { timeLimit: 60 });
 *   }
 *
 * The worker loads it once on its own thread (names and options) and, with `-P threads`, once
 * more in every pool thread (the handlers that run there).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { TaskRegistry } from "../registry";

export type AppRegister = (registry: TaskRegistry) => void | Promise<void>;

/** A path (relative to `cwd`) or a file: URL → the file: URL the module is imported from. */
export function resolveAppUrl(spec: string, cwd: string = process.cwd()): string {
  if (typeof spec !== "string" || spec.trim() === "") throw new TypeError("the app module path is empty");
  if (spec.startsWith("file:")) return new URL(spec).href;
  return pathToFileURL(path.resolve(cwd, spec)).href;
}

/** Import the module at `url` and let its default export register tasks on `registry`. */
export async function loadApp(url: string, registry: TaskRegistry = new TaskRegistry()): Promise<TaskRegistry> {
  const mod: unknown = await import(url);
  const register = mod && typeof mod === "object" ? (mod as { default?: unknown }).default : undefined;
  if (typeof register !== "function") {
    throw new TypeError(`${url} has no default export function: write \`export default function register(registry) { registry.register(…) }\``);
  }
  await (register as AppRegister)(registry);
  return registry;
}
