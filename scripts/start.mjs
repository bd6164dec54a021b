#!/usr/bin/env node
/**
 * `npm start` / the `petal` bin: build the dashboard when the build is missing or older than its
 * sources, then run the server as `node --import tsx server/main.ts …args` (one child, not
 * `npx tsx`: STACK.md) and pass signals through.
 *
 * Signals: a terminal's Ctrl-C reaches this process and the server (same process group), and
 * npm forwards its own copy too, so one key press can arrive two or three times. Copies within
 * DUPLICATE_MS count as one; the server does the same, so only a deliberate second Ctrl-C
 * makes it exit at once.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** sources the production build is made from (default: app/, components/, lib/protocol/ and configs) */
const BUILD_SOURCES = ["app", "components", "lib/protocol", "public", "next.config.ts", "next.config.mjs", "next.config.js", "postcss.config.mjs", "tsconfig.json", "package.json"];
const DUPLICATE_MS = 500;

const args = process.argv.slice(2);

/** Newest mtime (ms) of the files under `p`, skipping tests; 0 when absent. */
function newestMtime(p) {
  let st;
  try {
    st = statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return /\.test\.tsx?$/.test(p) ? 0 : st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry)));
  }
  return newest;
}

/** --url-prefix / PETAL_URL_PREFIX, normalized like server/main.ts ("" or "/a/b"). */
function urlPrefix(argv) {
  let raw = process.env.PETAL_URL_PREFIX ?? "";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--url-prefix" && i + 1 < argv.length) raw = argv[i + 1];
    else if (argv[i].startsWith("--url-prefix=")) raw = argv[i].slice("--url-prefix=".length);
  }
  const p = raw.trim().replace(/^\/+|\/+$/g, "");
  return p === "" ? "" : "/" + p;
}

/** The prefix is compiled into the build (Next's basePath), so a build for another prefix is stale. */
const PREFIX_FILE = path.join(ROOT, ".next", "petal-url-prefix");

/** The prefix a build was made for; a build this script did not make (`npm run build`) has none. */
function builtPrefix(buildId) {
  if (!existsSync(PREFIX_FILE)) return "";
  const [id, prefix = ""] = readFileSync(PREFIX_FILE, "utf8").split("\n");
  return id === buildId ? prefix : "";
}

function needsBuild(prefix) {
  const id = path.join(ROOT, ".next", "BUILD_ID");
  if (!existsSync(id)) return "missing";
  if (builtPrefix(readFileSync(id, "utf8")) !== prefix) return "prefix";
  const built = statSync(id).mtimeMs;
  const sources = Math.max(...BUILD_SOURCES.map((s) => newestMtime(path.join(ROOT, s))));
  return sources > built ? "stale" : null;
}

/** The server needs no production build for dev mode, help, version or the worker subcommand. */
function wantsBuild(argv) {
  if (argv[0] === "worker") return false;
  if (argv.some((a) => a === "--dev" || a === "-h" || a === "--help" || a === "-V" || a === "--version")) return false;
  const dev = (process.env.PETAL_DEV ?? "").toLowerCase();
  return !["1", "true", "yes", "on"].includes(dev);
}

const BUILD_MESSAGES = {
  missing: "building the dashboard (first run, ~30 s)…",
  stale: "rebuilding the dashboard (sources changed, ~30 s)…",
  prefix: "rebuilding the dashboard for url prefix %s (~30 s)…",
};

function build(reason, prefix) {
  process.stderr.write(BUILD_MESSAGES[reason].replace("%s", JSON.stringify(prefix || "/")) + "\n");
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [nextBin, "build"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NEXT_PUBLIC_PETAL_PREFIX: prefix } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    let interrupted = false;
    const stop = () => {
      interrupted = true;
      child.kill("SIGTERM");
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    child.on("close", (code, signal) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      if (code === 0) {
        writeFileSync(PREFIX_FILE, readFileSync(path.join(ROOT, ".next", "BUILD_ID"), "utf8") + "\n" + prefix);
        return resolve();
      }
      if (interrupted) {
        process.stderr.write("petal: build interrupted\n");
        process.exit(130);
      }
      process.stderr.write(output + `\npetal: next build failed (${signal ?? "exit " + code})\n`);
      process.exit(code || 1);
    });
  });
}

function run() {
  // Resolve tsx and the entry from here, so the bin works from any working directory.
  const tsx = import.meta.resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, path.join(ROOT, "server", "main.ts"), ...args], { stdio: "inherit" });
  let last = { sig: "", at: 0 };
  const forward = (sig) => {
    const now = Date.now();
    if (sig === last.sig && now - last.at < DUPLICATE_MS) return;
    last = { sig, at: now };
    if (child.exitCode === null) child.kill(sig);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => forward(sig));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal, so our parent sees what really happened.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

if (wantsBuild(args)) {
  const prefix = urlPrefix(args);
  const reason = needsBuild(prefix);
  if (reason) await build(reason, prefix);
}
run();
