/**
 * The demo's task names: what a small SaaS backend runs. Each has realistic args/kwargs, a
 * skewed runtime and its own way to fail (real JS errors with Python-ish names, so the
 * dashboard shows `ImageDecodeError('truncated JPEG…')` like a Celery worker would).
 *
 * Test overrides, honoured by every demo task (they also switch random failures off):
 *   duration_ms: number      run exactly this long (then succeed, unless told to fail)
 *   fail: true               always fail, never retry
 *   fail_once_key: string    fail the first time this key is seen, succeed afterwards; tasks
 *                            that retry by themselves (emails.send, webhooks.deliver,
 *                            payments.charge) retry after `retry_countdown` s (default: 1)
 *                            so one uuid goes RETRY → SUCCESS; the others end in FAILURE
 *                            and a re-run (Retry button) succeeds
 *   no_retry: true           never self-retry
 */
import { email, hex, imageUrl, int, pick, skewedMs, type Rng } from "./random";

/** A named error class, so events and results carry a meaningful exception type. */
function errorClass(name: string): new (message: string) => Error {
  const C = class extends Error {
    constructor(message: string) {
      super(message);
      this.name = name;
    }
  };
  Object.defineProperty(C, "name", { value: name });
  return C;
}

export const ImageDecodeError = errorClass("ImageDecodeError");
export const SMTPTemporaryError = errorClass("SMTPTemporaryError");
export const CardDeclined = errorClass("CardDeclined");
export const GatewayTimeout = errorClass("GatewayTimeout");
export const ConnectionError = errorClass("ConnectionError");
export const QueryTimeout = errorClass("QueryTimeout");
export const TrainingDiverged = errorClass("TrainingDiverged");
export const ValueError = errorClass("ValueError");

export interface SelfRetry {
  /** attempts after the first (default Celery max_retries is 3) */
  max: number;
  /** countdown = base × 2^retries seconds */
  baseSeconds: number;
}

export interface Failure {
  /** chance per attempt, 0..1 */
  rate: number;
  error(rng: Rng): Error;
  /** retry with backoff instead of failing, while retries remain */
  retry?: SelfRetry;
}

export interface DemoTaskDef {
  name: string;
  queue: string;
  /** share of the produced tasks (relative) */
  weight: number;
  make(rng: Rng): { args: unknown[]; kwargs: Record<string, unknown>; countdown?: number };
  /** natural runtime, ms */
  runtime(rng: Rng): number;
  failures: Failure[];
  result(args: unknown[], kwargs: Record<string, unknown>, rng: Rng): unknown;
}

const id = (rng: Rng) => int(rng, 1000, 999_999);

export const DEMO_TASKS: readonly DemoTaskDef[] = [
  {
    name: "images.resize",
    queue: "images",
    weight: 18,
    make: (rng) => {
      const w = pick(rng, [320, 640, 800, 1280, 1920]);
      return { args: [id(rng)], kwargs: { url: imageUrl(rng), width: w, height: Math.round((w * 3) / 4), format: pick(rng, ["jpeg", "webp"]) } };
    },
    runtime: (rng) => skewedMs(rng, 60, 4000),
    failures: [{ rate: 0.08, error: (rng) => new ImageDecodeError(`truncated JPEG: premature end of data segment at byte ${int(rng, 1024, 900_000)}`) }],
    result: (args, kw) => ({ image_id: args[0], width: kw.width, height: kw.height, bytes: 40_000 + Math.round(Math.random() * 400_000) }),
  },
  {
    name: "images.thumbnail",
    queue: "images",
    weight: 16,
    make: (rng) => ({ args: [id(rng), pick(rng, [64, 128, 256])], kwargs: { url: imageUrl(rng), crop: pick(rng, ["center", "smart"]) } }),
    runtime: (rng) => skewedMs(rng, 15, 900),
    failures: [{ rate: 0.03, error: () => new ImageDecodeError("unsupported colour space CMYK") }],
    result: (args) => `https://cdn.example.com/thumbs/${String(args[0])}_${String(args[1])}.webp`,
  },
  {
    name: "emails.send",
    queue: "celery",
    weight: 22,
    make: (rng) => ({
      args: [],
      kwargs: { to: email(rng), template: pick(rng, ["welcome", "password_reset", "invoice", "digest_weekly", "order_shipped"]), user_id: id(rng), locale: pick(rng, ["en", "en", "de", "fr", "ja"]) },
    }),
    runtime: (rng) => skewedMs(rng, 40, 1500),
    failures: [
      { rate: 0.1, error: (rng) => new SMTPTemporaryError(`SMTP 451 temporary failure: greylisted, try again in ${int(rng, 1, 5)}s`), retry: { max: 3, baseSeconds: 2 } },
      { rate: 0.01, error: () => new SMTPTemporaryError("SMTP 550 mailbox unavailable") },
    ],
    result: (_a, kw) => ({ message_id: `<${Date.now()}.${Math.floor(Math.random() * 1e6)}@mail.example.com>`, to: kw.to }),
  },
  {
    name: "payments.charge",
    queue: "celery",
    weight: 10,
    make: (rng) => ({
      args: [],
      kwargs: { customer_id: `cus_${hex(rng, 14)}`, amount_cents: int(rng, 199, 49_999), currency: pick(rng, ["usd", "usd", "eur", "gbp"]), idempotency_key: hex(rng, 24) },
    }),
    runtime: (rng) => skewedMs(rng, 120, 2500),
    failures: [
      { rate: 0.07, error: () => new CardDeclined("card_declined: insufficient_funds") },
      { rate: 0.04, error: () => new GatewayTimeout("payment gateway timed out after 10s"), retry: { max: 2, baseSeconds: 3 } },
    ],
    result: (_a, kw) => ({ charge_id: `ch_${Math.random().toString(36).slice(2, 16)}`, status: "succeeded", amount_cents: kw.amount_cents }),
  },
  {
    name: "webhooks.deliver",
    queue: "celery",
    weight: 16,
    make: (rng) => ({
      args: [`evt_${hex(rng, 16)}`],
      kwargs: { url: `https://hooks.${pick(rng, ["acme.io", "example.com", "partner.example.net"])}/petal/${hex(rng, 8)}`, event: pick(rng, ["order.created", "invoice.paid", "user.deleted"]), attempt: 1 },
    }),
    runtime: (rng) => skewedMs(rng, 10, 2000),
    failures: [{ rate: 0.12, error: (rng) => new ConnectionError(`${pick(rng, ["502 Bad Gateway", "503 Service Unavailable", "connection reset by peer"])}`), retry: { max: 4, baseSeconds: 1 } }],
    result: () => ({ status: 200 }),
  },
  {
    name: "reports.generate",
    queue: "celery",
    weight: 4,
    make: (rng) => ({
      args: [id(rng)],
      kwargs: { kind: pick(rng, ["sales_daily", "churn", "inventory", "tax_quarterly"]), format: pick(rng, ["pdf", "csv", "xlsx"]), requested_by: email(rng) },
    }),
    runtime: (rng) => skewedMs(rng, 1500, 30_000),
    failures: [{ rate: 0.05, error: () => new QueryTimeout("warehouse query exceeded 25s statement_timeout") }],
    result: (args, kw) => `s3://reports/${String(args[0])}.${String(kw.format)}`,
  },
  {
    name: "ml.train",
    queue: "ml",
    weight: 2,
    make: (rng) => ({
      args: [pick(rng, ["churn-v3", "fraud-v7", "recs-v12"])],
      kwargs: { dataset: `s3://datasets/${hex(rng, 6)}.parquet`, epochs: int(rng, 3, 40), learning_rate: pick(rng, [0.001, 0.0003, 0.01]) },
    }),
    runtime: (rng) => skewedMs(rng, 4000, 30_000),
    failures: [{ rate: 0.08, error: (rng) => new TrainingDiverged(`loss became NaN at epoch ${int(rng, 1, 30)}`) }],
    result: (args) => ({ model: args[0], auc: Math.round((0.8 + Math.random() * 0.15) * 1000) / 1000 }),
  },
  {
    name: "search.reindex",
    queue: "celery",
    weight: 3,
    // Scheduled work: sent with a 5–60 s countdown, so "scheduled"/ETA tasks exist.
    make: (rng) => ({ args: [pick(rng, ["products", "orders", "customers"])], kwargs: { shard: int(rng, 0, 15) }, countdown: int(rng, 5, 60) }),
    runtime: (rng) => skewedMs(rng, 300, 6000),
    failures: [{ rate: 0.02, error: () => new ConnectionError("elasticsearch cluster is red") }],
    result: () => ({ indexed: Math.floor(Math.random() * 50_000) }),
  },
  {
    name: "orders.sync_inventory",
    queue: "celery",
    weight: 9,
    make: (rng) => ({ args: [id(rng)], kwargs: { warehouse: pick(rng, ["ams-1", "fra-2", "iad-1"]), full: rng() < 0.1 } }),
    runtime: (rng) => skewedMs(rng, 10, 1200),
    failures: [{ rate: 0.04, error: () => new ValueError("sku not found in warehouse catalogue") }],
    result: () => ({ updated: Math.floor(Math.random() * 300) }),
  },
];

export const DEMO_TASK_NAMES: readonly string[] = DEMO_TASKS.map((t) => t.name);

/** Queues the demo publishes to (the embedded workers consume them). */
export const DEMO_QUEUES: readonly string[] = [...new Set(DEMO_TASKS.map((t) => t.queue))];

/** Weighted choice of the next task to produce. */
export function pickTask(rng: Rng): DemoTaskDef {
  let total = 0;
  for (const t of DEMO_TASKS) total += t.weight;
  let x = rng() * total;
  for (const t of DEMO_TASKS) {
    x -= t.weight;
    if (x < 0) return t;
  }
  return DEMO_TASKS[DEMO_TASKS.length - 1]!;
}
