/**
 * ClientSubscription arrives from the browser: untrusted. Validate it strictly enough that a bad
 * tab cannot make the server do unbounded work (huge pages, giant search strings).
 */
import { z } from "zod";
import { TASK_STATES, type TaskState } from "../../lib/protocol/types";
import type { ChartsRange, ClientSubscription, SeriesResolution, TaskQuery } from "../../lib/protocol/api";

/** largest task page a socket may ask for (default page size is the state's) */
export const MAX_PAGE = 500;

const name = z.string().max(300);
const nameList = z.array(name).max(200).nullish();
const seconds = z.number().finite().nullish();

const taskQuerySchema = z
  .object({
    state: z.array(z.enum(TASK_STATES as unknown as [TaskState, ...TaskState[]])).max(TASK_STATES.length).nullish(),
    taskname: nameList,
    workername: nameList,
    search: z.string().max(1000).nullish(),
    received_start: seconds,
    received_end: seconds,
    sort_by: z.string().max(64).regex(/^-?\w+$/).nullish(),
    offset: z.number().int().min(0).max(10_000_000).optional(),
    limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  })
  .strict();

const resolutionSchema = z.enum(["1s", "10s", "1m", "1h", "24h", "7d"] satisfies (SeriesResolution | ChartsRange)[]);

export const clientSubscriptionSchema = z
  .object({
    overview: z.boolean().optional(),
    workers: z.boolean().optional(),
    tasks: taskQuerySchema.nullish(),
    task: z.string().min(1).max(200).nullish(),
    worker: z.string().min(1).max(300).nullish(),
    broker: z.boolean().optional(),
    charts: z.object({ resolution: resolutionSchema, worker: name.nullish() }).strict().nullish(),
  })
  .strict();

/** What a socket gets before it says anything: the top bar's needs. */
export const DEFAULT_SUBSCRIPTION: ClientSubscription = { overview: true };

export type ParsedSubscription =
  | { ok: true; value: ClientSubscription }
  | { ok: false; message: string };

export function parseSubscription(input: unknown): ParsedSubscription {
  const r = clientSubscriptionSchema.safeParse(input);
  if (r.success) return { ok: true, value: stripNullish(r.data) };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") + ": " : "";
  return { ok: false, message: `invalid subscription: ${where}${issue?.message ?? "bad input"}` };
}

/** Copy without null/undefined keys so "is it subscribed" is a simple truthiness check. */
function stripNullish(s: z.infer<typeof clientSubscriptionSchema>): ClientSubscription {
  const out: ClientSubscription = {};
  if (s.overview) out.overview = true;
  if (s.workers) out.workers = true;
  if (s.broker) out.broker = true;
  if (s.task) out.task = s.task;
  if (s.worker) out.worker = s.worker;
  if (s.charts) out.charts = { resolution: s.charts.resolution, worker: s.charts.worker ?? null };
  if (s.tasks) {
    const q: TaskQuery = {};
    for (const [k, v] of Object.entries(s.tasks)) if (v !== null && v !== undefined) (q as Record<string, unknown>)[k] = v;
    out.tasks = q;
  }
  return out;
}
