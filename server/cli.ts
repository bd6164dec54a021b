/**
 * `petal` flags and environment → a validated PetalConfig: PETAL_* first, then Flower's and
 * Celery's names (FLOWER_*, CELERY_BROKER_URL), so switching from Flower is a one-line change.
 * Flower-only options are accepted with a warning, or refused when dropping them would be unsafe.
 * Never exits the process itself: main.ts does, tests call parseCli.
 */
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import type { PetalConfig } from "./context";
import { LOG_LEVELS, redactUrl, type LogLevel } from "./log";
import { DEFAULT_EVENT_STREAM_MAXLEN } from "../lib/broker/redis/stream";
import { resolveHistoryConfig, type HistoryConfig, type HistoryFlags } from "./history";

export type CliResult =
  /** `warnings`: one line each, for Flower options that were accepted but have no effect */
  | { kind: "serve"; config: PetalConfig; warnings: string[]; history?: HistoryConfig }
  /** `petal worker …`: the rest of argv goes to server/worker-cli.ts */
  | { kind: "worker"; argv: string[] }
  /** help, version or an error: print `output`, exit with `code` */
  | { kind: "exit"; code: number; output: string; stream: "stdout" | "stderr" };

/** process.env or a plain object (tests) */
export type Env = Record<string, string | undefined>;

const TRUE = new Set(["1", "true", "yes", "y", "on", "t"]);
const FALSE = new Set(["0", "false", "no", "n", "off", "f", ""]);

class ConfigError extends Error {}

function envBool(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new ConfigError(`invalid ${name} ${JSON.stringify(raw)}: expected true/false, 1/0, yes/no or on/off`);
}

const intString = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `invalid ${what}: must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `invalid ${what}: must be an integer from ${min} to ${max}`).max(max, `invalid ${what}: must be an integer from ${min} to ${max}`));

/** "user:pass[,user2:pass2]": every pair needs a user and a colon (the password may be empty). */
const basicAuthSchema = z
  .string()
  .regex(/^[^:,]+:[^,]*(,[^:,]+:[^,]*)*$/, "invalid basic auth: expected user:pass[,user2:pass2]");

const brokerSchema = z
  .string()
  .trim()
  .regex(/^(memory|redis|rediss|sentinel):\/\//i, "invalid broker URL: expected memory://, redis://host:port/db, rediss:// or sentinel://");

/** "" or "/a/b": leading slash, no trailing slash, no query. */
function normalizePrefix(raw: string): string {
  const p = raw.trim().replace(/^\/+|\/+$/g, "");
  if (p === "") return "";
  if (!/^[\w.~-]+(\/[\w.~-]+)*$/.test(p)) throw new ConfigError(`invalid url prefix ${JSON.stringify(raw)}: use letters, digits, "-", "_", "." and "/"`);
  return "/" + p;
}

function pick<T>(flag: T | undefined, envValue: T | undefined, fallback: T): T {
  return flag !== undefined ? flag : envValue !== undefined ? envValue : fallback;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, label: string, shown: unknown = value): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const msg = r.error.issues[0]?.message ?? "invalid value";
  throw new ConfigError(`${msg.replace(/^invalid ([^:]+)/, (_m, what: string) => `invalid ${label || what}`)} (got ${JSON.stringify(shown)})`);
}

/**
 * The first of `names` set in env: PETAL_* first, then the names Flower and Celery read, so
 * Petal drops into a Flower deployment's environment unchanged.
 */
function envFirst(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

const ENV = {
  port: ["PETAL_PORT", "FLOWER_PORT"],
  address: ["PETAL_ADDRESS", "FLOWER_ADDRESS"],
  broker: ["PETAL_BROKER", "CELERY_BROKER_URL", "BROKER_URL"],
  basicAuth: ["PETAL_BASIC_AUTH", "FLOWER_BASIC_AUTH"],
  maxTasks: ["PETAL_MAX_TASKS", "FLOWER_MAX_TASKS"],
  urlPrefix: ["PETAL_URL_PREFIX", "FLOWER_URL_PREFIX"],
} as const;

/**
 * Flower options Petal accepts and ignores, with why, so `celery flower …` command lines keep
 * working; each one given prints a one-line warning.
 */
export const IGNORED_FLOWER_OPTIONS: Readonly<Record<string, string>> = {
  persistent: "Petal always keeps history in SQLite (--db PATH, --no-persist)",
  state_save_interval: "Petal writes history continuously",
  enable_events: "start workers with -E (task events) instead",
  purge_offline_workers: "offline workers stay listed",
  auto_refresh: "the dashboard always updates live",
  broker_api: "queue lengths come from the broker itself",
  conf: "Flower config files are not read; use flags or env",
  natural_time: "no Petal equivalent",
  inspect_timeout: "no Petal equivalent",
  max_workers: "no Petal equivalent",
  tasks_columns: "no Petal equivalent",
  xheaders: "no Petal equivalent",
};

/** Flower options whose silent loss would weaken security: refused, not ignored. */
export const REFUSED_FLOWER_OPTIONS: Readonly<Record<string, string>> = {
  auth: "Flower's OAuth login is not supported; use --basic-auth",
  oauth2_key: "Flower's OAuth login is not supported; use --basic-auth",
  oauth2_secret: "Flower's OAuth login is not supported; use --basic-auth",
  oauth2_redirect_uri: "Flower's OAuth login is not supported; use --basic-auth",
  certfile: "TLS is not served by Petal; put a TLS proxy in front",
  keyfile: "TLS is not served by Petal; put a TLS proxy in front",
  ca_certs: "TLS is not served by Petal; put a TLS proxy in front",
};

interface RawFlags {
  port?: string;
  address?: string;
  broker?: string;
  demo?: boolean;
  basicAuth?: string;
  readOnly?: boolean;
  maxTasks?: string;
  urlPrefix?: string;
  dev?: boolean;
  logLevel?: string;
  /** --no-event-stream gives false */
  eventStream?: boolean;
  eventStreamMaxlen?: string;
  globalKeyprefix?: string;
  /** Flower's spellings of the same options */
  basic_auth?: string;
  url_prefix?: string;
  max_tasks?: string;
}

/** Flags win over env, env over defaults. Throws ConfigError with a one-line message. */
export function resolveConfig(flags: RawFlags, env: Env): PetalConfig {
  const portEnv = envFirst(env, ENV.port);
  const portRaw = pick(flags.port, portEnv?.value, "5555");
  const port = parseWith(intString("port", 0, 65535), portRaw, flags.port !== undefined ? "--port" : (portEnv?.name ?? "port"));
  const address = pick(flags.address, envFirst(env, ENV.address)?.value, "127.0.0.1").trim();
  if (address === "" || /\s/.test(address)) throw new ConfigError(`invalid address ${JSON.stringify(address)}`);
  const brokerEnv = envFirst(env, ENV.broker);
  const brokerRaw = pick(flags.broker, brokerEnv?.value, "memory://");
  // The URL may hold a password: never echo it back.
  const broker = parseWith(brokerSchema, brokerRaw, flags.broker !== undefined || !brokerEnv ? "broker URL" : brokerEnv.name, redactUrl(brokerRaw));
  const demo = pick(flags.demo, envBool(env, "PETAL_DEMO"), broker.startsWith("memory://"));
  const authRaw = pick<string | undefined>(flags.basicAuth ?? flags.basic_auth, envFirst(env, ENV.basicAuth)?.value, undefined);
  const basicAuth = authRaw === undefined ? null : parseWith(basicAuthSchema, authRaw, "basic auth", "<redacted>");
  const readOnly = pick(flags.readOnly, envBool(env, "PETAL_READ_ONLY"), false);
  const maxFlag = flags.maxTasks ?? flags.max_tasks;
  const maxEnv = envFirst(env, ENV.maxTasks);
  const maxRaw = pick(maxFlag, maxEnv?.value, "100000");
  const maxLabel = maxFlag !== undefined ? (flags.maxTasks !== undefined ? "--max-tasks" : "--max_tasks") : (maxEnv?.name ?? "max tasks");
  const maxTasks = parseWith(intString("max tasks", 1, 10_000_000), maxRaw, maxLabel);
  const urlPrefix = normalizePrefix(pick(flags.urlPrefix ?? flags.url_prefix, envFirst(env, ENV.urlPrefix)?.value, ""));
  const dev = pick(flags.dev, envBool(env, "PETAL_DEV"), false);
  const level = pick(flags.logLevel, env.PETAL_LOG_LEVEL, "info");
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`invalid log level ${JSON.stringify(level)}: expected ${LOG_LEVELS.join(", ")}`);
  // Left undefined unless given: the defaults live with the broker (DEFAULT_EVENT_STREAM_MAXLEN) and compose (follow: on).
  const eventStream = pick<boolean | undefined>(flags.eventStream === false ? false : undefined, envBool(env, "PETAL_EVENT_STREAM"), undefined);
  const streamMaxRaw = pick<string | undefined>(flags.eventStreamMaxlen, env.PETAL_EVENT_STREAM_MAXLEN, undefined);
  const eventStreamMaxLen =
    streamMaxRaw === undefined ? undefined : parseWith(intString("event stream max length", 0, 100_000_000), streamMaxRaw, flags.eventStreamMaxlen !== undefined ? "--event-stream-maxlen" : "PETAL_EVENT_STREAM_MAXLEN");
  const globalKeyprefix = pick<string | undefined>(flags.globalKeyprefix, env.PETAL_GLOBAL_KEYPREFIX, undefined);
  if (globalKeyprefix !== undefined && broker.startsWith("memory://")) throw new ConfigError("--global-keyprefix applies to a Redis broker only");
  return { port, address, broker, demo, basicAuth, readOnly, maxTasks, urlPrefix, dev, logLevel: level as LogLevel, eventStream, eventStreamMaxLen, globalKeyprefix };
}

/** Parse argv (without node and script) and env. Never exits the process itself: tests call it. */
export function parseCli(argv: string[], env: Env, version = "0.0.0"): CliResult {
  // The worker has its own flags (some share names with ours, e.g. --broker): hand it argv untouched.
  if (argv[0] === "worker") return { kind: "worker", argv: argv.slice(1) };
  let out = "";
  let err = "";
  let result: CliResult | null = null;
  const program = new Command("petal")
    .description("Real-time monitor and task queue for Celery: a Flower replacement")
    .version(version, "-V, --version")
    .configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) })
    .exitOverride()
    .option("-p, --port <port>", "HTTP port (env PETAL_PORT, default: 5555)")
    .option("-a, --address <address>", "address to bind (env PETAL_ADDRESS, default: 127.0.0.1)")
    .option("-b, --broker <url>", "broker URL (env PETAL_BROKER, default: memory://)")
    .option("--demo", "run the demo workload (env PETAL_DEMO, default: on for memory://)")
    .option("--no-demo", "do not run the demo workload")
    .option("--basic-auth <user:pass>", "require HTTP basic auth, comma-separated pairs (env PETAL_BASIC_AUTH)")
    .option("--read-only", "refuse control actions (env PETAL_READ_ONLY)")
    .option("--max-tasks <n>", "tasks kept in memory (env PETAL_MAX_TASKS, default: 100000)")
    .option("--url-prefix <prefix>", "serve under a path prefix, e.g. /flower (env PETAL_URL_PREFIX)")
    .option("--dev", "Next.js dev mode instead of the production build")
    .option("--no-event-stream", "do not resume from Petal's event stream on Redis (env PETAL_EVENT_STREAM=0)")
    .option("--global-keyprefix <prefix>", "Celery's broker_transport_options global_keyprefix, put before every broker key and channel; result keys stay as they are (env PETAL_GLOBAL_KEYPREFIX)")
    .option("--event-stream-maxlen <n>", `entries kept in the Redis event stream this process appends to, 0 = none (env PETAL_EVENT_STREAM_MAXLEN, default: ${DEFAULT_EVENT_STREAM_MAXLEN})`)
    .option("--db <path>", "history database, SQLite (env PETAL_DB, default: ./.petal/petal.db)")
    .option("--persist", "keep task history on disk (env PETAL_PERSIST, default: on)")
    .option("--no-persist", "keep no history on disk")
    .option("--retention <age>", "delete history older than this: 90s, 30m, 12h, 7d, off (env PETAL_RETENTION, default: 7d)")
    .option("--max-history <n>", "tasks kept in history, 0 for no limit (env PETAL_MAX_HISTORY, default: 10000000)")
    .addOption(new Option("--log-level <level>", "log level (env PETAL_LOG_LEVEL, default: info)").choices([...LOG_LEVELS]))
    .addOption(new Option("--basic_auth <user:pass>").hideHelp())
    .addOption(new Option("--url_prefix <prefix>").hideHelp())
    .addOption(new Option("--max_tasks <n>").hideHelp());
  // Flower's own flags: booleans may be written --flag, --flag=True or --flag=False.
  for (const name of [...Object.keys(IGNORED_FLOWER_OPTIONS), ...Object.keys(REFUSED_FLOWER_OPTIONS)]) {
    program.addOption(new Option(`--${name} [value]`).hideHelp());
  }
  program.addHelpText("after", "\nFlower's spellings (--basic_auth, --url_prefix, --max_tasks) and FLOWER_* / CELERY_BROKER_URL env work too.");
  program.action((flags: RawFlags & Record<string, unknown>) => {
    for (const [name, why] of Object.entries(REFUSED_FLOWER_OPTIONS)) {
      if (flags[name] !== undefined) throw new ConfigError(`--${name} is not supported: ${why}`);
    }
    const warnings: string[] = [];
    for (const [name, why] of Object.entries(IGNORED_FLOWER_OPTIONS)) {
      if (flags[name] !== undefined) warnings.push(`ignoring Flower option --${name}: ${why}`);
    }
    let history: HistoryConfig;
    try {
      history = resolveHistoryConfig(flags as HistoryFlags, env);
    } catch (e) {
      throw new ConfigError(e instanceof Error ? e.message : String(e));
    }
    result = { kind: "serve", config: resolveConfig(flags, env), warnings, history };
  });

  // Listed for `petal --help`; parseCli hands `worker …` to worker-cli.ts before commander runs.
  program
    .command("worker")
    .description("run TypeScript tasks as a Celery-compatible worker (petal worker --help)")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false);

  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof ConfigError) return { kind: "exit", code: 2, output: `petal: ${e.message}\n`, stream: "stderr" };
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
      const line = (err.trim().split("\n")[0] || e.message).replace(/^error: /, "");
      return { kind: "exit", code: 2, output: `petal: ${line}\n`, stream: "stderr" };
    }
    throw e;
  }
  return result ?? { kind: "exit", code: 2, output: "petal: nothing to do\n", stream: "stderr" };
}
