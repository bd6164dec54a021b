/**
 * The contract: Celery 5 wire types (protocol v2 on a kombu envelope), event types, control
 * commands. Pure types, browser-safe. Field names follow Celery exactly (snake_case on the
 * wire); see lib/protocol/README.md for the glossary and ../shared/celery-protocol/PROTOCOL.md.
 */

/** Celery task states, upper case as Celery and Flower spell them. */
export type TaskState =
  | "PENDING"
  | "RECEIVED"
  | "STARTED"
  | "SUCCESS"
  | "FAILURE"
  | "RETRY"
  | "REVOKED"
  | "REJECTED";

export const TASK_STATES: readonly TaskState[] = [
  "PENDING",
  "RECEIVED",
  "STARTED",
  "SUCCESS",
  "FAILURE",
  "RETRY",
  "REVOKED",
  "REJECTED",
] as const;

/**
 * States after which a task will not change again (Celery's READY_STATES plus REJECTED). Typed
 * over strings: a stored result may hold any state (ResultState), and such a state is not ready.
 */
export const READY_STATES: ReadonlySet<string> = new Set<TaskState>(["SUCCESS", "FAILURE", "REVOKED", "REJECTED"]);

// ---------------------------------------------------------------------------------------------
// kombu envelope

export interface DeliveryInfo {
  exchange: string;
  routing_key: string;
  priority?: number;
  redelivered?: boolean | null;
}

export interface EnvelopeProperties {
  correlation_id?: string;
  reply_to?: string;
  delivery_mode?: number;
  delivery_info: DeliveryInfo;
  priority?: number;
  body_encoding?: "base64" | string;
  delivery_tag: string;
  expiration?: string;
  [extra: string]: unknown;
}

/** A kombu message as it sits on a Redis list or in a pub/sub payload, body still encoded. */
export interface Envelope {
  body: string;
  "content-encoding": string;
  "content-type": string;
  headers: Record<string, unknown>;
  properties: EnvelopeProperties;
}

// ---------------------------------------------------------------------------------------------
// task message, protocol v2

export interface TaskHeaders {
  lang?: string;
  task: string;
  id: string;
  shadow?: string | null;
  eta?: string | null;
  expires?: string | null;
  group?: string | null;
  group_index?: number | null;
  retries?: number;
  timelimit?: [number | null, number | null];
  root_id?: string | null;
  parent_id?: string | null;
  argsrepr?: string;
  kwargsrepr?: string;
  origin?: string;
  ignore_result?: boolean;
  redelivered?: boolean;
  /** Petal extension: the id of the task this one re-runs (POST /api/task/retry). Celery ignores unknown headers. */
  retry_of?: string | null;
  [extra: string]: unknown;
}

export interface TaskEmbed {
  callbacks: unknown[] | null;
  errbacks: unknown[] | null;
  chain: unknown[] | null;
  chord: unknown | null;
}

/** The decoded body of a v2 task message: `[args, kwargs, embed]`. */
export type TaskBody = [unknown[], Record<string, unknown>, TaskEmbed];

/** A decoded task message: what a worker needs to run a task. */
export interface TaskMessage {
  headers: TaskHeaders;
  args: unknown[];
  kwargs: Record<string, unknown>;
  embed: TaskEmbed;
  properties: EnvelopeProperties;
}

// ---------------------------------------------------------------------------------------------
// events

export type TaskEventType =
  | "task-sent"
  | "task-received"
  | "task-started"
  | "task-succeeded"
  | "task-failed"
  | "task-retried"
  | "task-revoked"
  | "task-rejected";

export type WorkerEventType = "worker-online" | "worker-heartbeat" | "worker-offline";

export type EventType = TaskEventType | WorkerEventType;

/** Fields on every event (PROTOCOL.md §5.3). */
export interface EventBase {
  type: EventType;
  hostname: string;
  /** float unix seconds, sender's clock */
  timestamp: number;
  /** hours, POSIX sign: positive is west of UTC */
  utcoffset: number;
  pid: number;
  /** sender's Lamport clock */
  clock: number;
  /** set by the receiver, never on the wire: receiver's time.time() */
  local_received?: number;
}

export interface TaskSentEvent extends EventBase {
  type: "task-sent";
  uuid: string;
  root_id: string | null;
  parent_id: string | null;
  name: string;
  args: string;
  kwargs: string;
  retries: number;
  eta: string | null;
  expires: string | null;
  queue: string;
  exchange: string;
  routing_key: string;
  /** Petal extension: id of the task this one re-runs. */
  retry_of?: string | null;
}

export interface TaskReceivedEvent extends EventBase {
  type: "task-received";
  uuid: string;
  name: string;
  args: string;
  kwargs: string;
  root_id: string | null;
  parent_id: string | null;
  retries: number;
  eta: string | null;
  expires: string | null;
  retry_of?: string | null;
}

export interface TaskStartedEvent extends EventBase {
  type: "task-started";
  uuid: string;
}

export interface TaskSucceededEvent extends EventBase {
  type: "task-succeeded";
  uuid: string;
  result: string;
  runtime: number;
}

export interface TaskFailedEvent extends EventBase {
  type: "task-failed";
  uuid: string;
  exception: string;
  traceback?: string;
}

export interface TaskRetriedEvent extends EventBase {
  type: "task-retried";
  uuid: string;
  exception: string;
  traceback: string;
}

export interface TaskRevokedEvent extends EventBase {
  type: "task-revoked";
  uuid: string;
  terminated: boolean;
  signum: number | null;
  expired: boolean;
}

export interface TaskRejectedEvent extends EventBase {
  type: "task-rejected";
  uuid: string;
  requeue: boolean;
}

export interface WorkerEvent extends EventBase {
  type: WorkerEventType;
  freq: number;
  active: number;
  processed: number;
  loadavg: [number, number, number];
  sw_ident: string;
  sw_ver: string;
  sw_sys: string;
}

export type TaskEvent =
  | TaskSentEvent
  | TaskReceivedEvent
  | TaskStartedEvent
  | TaskSucceededEvent
  | TaskFailedEvent
  | TaskRetriedEvent
  | TaskRevokedEvent
  | TaskRejectedEvent;

export type CeleryEvent = TaskEvent | WorkerEvent;

// ---------------------------------------------------------------------------------------------
// remote control (pidbox)

export interface ControlReplyTo {
  exchange: string;
  routing_key: string;
}

export interface ControlRequest {
  method: string;
  arguments: Record<string, unknown>;
  /** null = every worker; else a list of node names */
  destination: string[] | null;
  pattern: string | null;
  matcher: "glob" | "pcre" | null;
  /** present only when a reply is wanted */
  ticket?: string;
  reply_to?: ControlReplyTo;
}

/** One worker's reply: `{ "<node>": value }`; value is `{ok: …}`, `{error: …}` or a data payload. */
export type ControlReply = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// result backend

/**
 * A stored result's state: Celery's own, or any other a task wrote (`update_state(state=
 * "PROGRESS")`, AbortableTask's "ABORTED"). The backend stores whatever string it is given.
 */
export type ResultState = TaskState | (string & {});

/** What `celery-task-meta-<id>` holds (PROTOCOL.md §4), `result_extended` form. */
export interface ResultMeta {
  status: ResultState;
  result: unknown;
  traceback: string | null;
  children: unknown[];
  date_done: string | null;
  task_id: string;
  name?: string | null;
  args?: unknown[] | null;
  kwargs?: Record<string, unknown> | null;
  worker?: string | null;
  retries?: number | null;
  queue?: string | null;
  parent_id?: string | null;
}

/** Python-style exception in a FAILURE/REVOKED result, so Python clients can rebuild it. */
export interface ExceptionInfo {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}
