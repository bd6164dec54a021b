// A pool thread's first module: Node 20 workers ignore `execArgv: ["--import", "tsx"]` for their
// entry, so register tsx's loader here, then load the TypeScript entry (and, from it, the app).
import { register } from "tsx/esm/api";

register();
await import(new URL("./thread-entry.ts", import.meta.url).href);
