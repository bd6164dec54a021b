/**
 * Petal's process entry: flags + env (cli.ts) → a validated PetalConfig, then one HTTP server
 * that serves the Flower-compatible API, socket.io and the Next.js dashboard on a single port.
 *
 *   node --import tsx server/main.ts [--port 5555] [--broker memory://] …
 *   node --import tsx server/main.ts worker --app ./tasks.ts …   (server/worker-cli.ts)
 */
import http from "node:http";
import { pathToFileURL } from "node:url";
import path from "node:path";
import type { PetalConfig, ServerContext } from "./context";
import { parseCli, type Env } from "./cli";
import { compose, type Composition } from "./compose";
import { createLogger, redactUrl } from "./log";
import { attachRealtime, type Realtime } from "./realtime";
import { checkBasicAuth, createHttpHandler, WWW_AUTHENTICATE } from "./http/index";
import type { HistoryConfig } from "./history";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..");
/** copies of one signal closer than this are one signal (default: 500 ms) */
const DUPLICATE_SIGNAL_MS = 500;
/** a graceful shutdown longer than this exits anyway (default: 15 s) */
const SHUTDOWN_DEADLINE_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// server

export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<unknown>;

/**
 * Request order: Flower-compatible API (it applies the same basic-auth rule itself, so API
 * clients get its JSON 401 and /healthcheck and /metrics stay open) → basic auth → Next.
 */
export function createRequestListener(ctx: ServerContext, next: NodeHandler | null): http.RequestListener {
  const api = createHttpHandler(ctx);
  return (req, res) => {
    void (async () => {
      if (await api(req, res)) return;
      if (ctx.config.basicAuth && !checkBasicAuth(req, ctx.config)) {
        res.writeHead(401, { "WWW-Authenticate": WWW_AUTHENTICATE, "Content-Type": "text/plain; charset=utf-8" });
        res.end("Authentication required\n");
        return;
      }
      if (next) return void (await next(req, res));
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("Not found\n");
    })().catch((err: unknown) => {
      ctx.log.error("request failed", { url: req.url, err });
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      if (!res.writableEnded) res.end(JSON.stringify({ error: { code: "internal", message: "internal server error" } }));
    });
  };
}

export interface RunningPetal {
  ctx: ServerContext;
  composition: Composition;
  server: http.Server;
  realtime: Realtime;
  /** the URL it listens on (actual port when --port 0) */
  url: string;
  /** stop the demo, workers (graceful), realtime, HTTP and broker */
  close(): Promise<void>;
}

export interface StartOptions {
  /** serve the Next dashboard (default: true; tests turn it off) */
  next?: boolean;
  version?: string;
  /** persistent history (default: none; main() passes the --db settings) */
  history?: HistoryConfig;
}

export async function startPetal(config: PetalConfig, opts: StartOptions = {}): Promise<RunningPetal> {
  const log = createLogger({ level: config.logLevel });
  const version = opts.version ?? "0.0.0";
  // Next's prepare() is the slowest step: start it first and overlap it with the broker and demo.
  const nextReady = opts.next === false ? Promise.resolve(null) : prepareNext(config);
  nextReady.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  const composition = await compose(config, { log, version, history: opts.history });
  const ctx = composition.ctx;
  let nextApp: Awaited<typeof nextReady>;
  try {
    nextApp = await nextReady;
    // An unreachable broker does not stop the dashboard: it serves and retries (Flower does too).
    await composition.startOrRetry();
  } catch (e) {
    await composition.close().catch(() => {});
    throw e;
  }
  const server = http.createServer(createRequestListener(ctx, nextApp?.handler ?? null));
  const realtime = attachRealtime(server, ctx, { dev: config.dev });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.address, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await realtime.close();
    await nextApp?.close();
    await composition.close().catch(() => {});
    throw e;
  }
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  const host = config.address.includes(":") ? `[${config.address}]` : config.address;
  const url = `http://${host}:${port}${config.urlPrefix}`;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      let t = performance.now();
      const phase = (name: string) => {
        const now = performance.now();
        log.debug(`shutdown: ${name}`, { ms: Math.round(now - t) });
        t = now;
      };
      await composition.stopWorkload();
      phase("workload stopped");
      const closed = realtime.close(); // io.close() closes the HTTP server too
      server.closeAllConnections(); // keep-alive and HMR sockets would hold server.close() open
      await closed;
      phase("realtime and http closed");
      await nextApp?.close();
      phase("next closed");
      await composition.close();
      phase("broker closed");
    })());
  return { ctx, composition, server, realtime, url, close };
}

async function prepareNext(config: PetalConfig): Promise<{ handler: NodeHandler; close(): Promise<void> }> {
  // next.config.ts turns this into basePath and the browser code reads it: keep them in step
  // with --url-prefix (a production build must have been made for the same prefix: start.mjs).
  process.env.NEXT_PUBLIC_PETAL_PREFIX = config.urlPrefix;
  const { default: next } = await import("next");
  const app = next({ dev: config.dev, dir: REPO_ROOT, hostname: config.address, port: config.port, quiet: !config.dev });
  // Next's prepare() swaps in its own Error.prepareStackTrace, which skips the source maps of
  // our TypeScript: every frame of a task's traceback then reads "line 1". A production server
  // has no use for Next's version (its overlay is dev-only), so keep the one we had.
  const prepareStackTrace = Error.prepareStackTrace;
  await app.prepare();
  if (!config.dev) Error.prepareStackTrace = prepareStackTrace;
  const handle = app.getRequestHandler();
  return {
    handler: (req, res) => handle(req, res),
    close: async () => {
      const c = (app as { close?: () => Promise<void> }).close;
      if (c) await c.call(app).catch(() => {});
    },
  };
}

async function readVersion(): Promise<string> {
  try {
    const { readFile } = await import("node:fs/promises");
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export async function main(argv = process.argv.slice(2), env: Env = process.env): Promise<void> {
  const version = await readVersion();
  const cli = parseCli(argv, env, version);
  if (cli.kind === "worker") {
    const { runWorkerCli } = await import("./worker-cli");
    return runWorkerCli(cli.argv, env);
  }
  if (cli.kind === "exit") {
    (cli.stream === "stdout" ? process.stdout : process.stderr).write(cli.output);
    process.exit(cli.code);
  }
  const config = cli.config;
  for (const w of cli.warnings) process.stderr.write(`petal: warning: ${w}\n`);
  const log = createLogger({ level: config.logLevel });
  process.on("unhandledRejection", (err) => log.error("unhandled rejection", { err }));

  let petal: RunningPetal;
  try {
    petal = await startPetal(config, { version, history: cli.history });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === "EADDRINUSE") process.stderr.write(`petal: port ${config.port} on ${config.address} is already in use\n`);
    else process.stderr.write(`petal: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // performance.now() counts from process start, so this includes module loading and Next.
  const startupMs = Math.round(performance.now());
  process.stdout.write(`Petal listening on ${petal.url} (broker ${redactUrl(config.broker)}, demo ${config.demo ? "on" : "off"})\n`);
  log.info("started", { startup_ms: startupMs, next: config.dev ? "dev" : "production", max_tasks: config.maxTasks });

  let first: { sig: NodeJS.Signals; at: number } | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (first) {
      // One Ctrl-C can arrive twice (terminal + npm/start.mjs forwarding): that is not a second press.
      if (sig === first.sig && performance.now() - first.at < DUPLICATE_SIGNAL_MS) return;
      process.stderr.write(`petal: ${sig} again, exiting now\n`);
      process.exit(1);
    }
    first = { sig, at: performance.now() };
    log.info("shutting down", { signal: sig });
    // A stuck close (a broker that never answers) must not keep the process alive forever.
    setTimeout(() => {
      log.error("shutdown took too long, exiting", { after_ms: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    petal.close().then(
      () => {
        log.debug("exiting");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isEntry) {
  main().catch((err: unknown) => {
    process.stderr.write(`petal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
