/**
 * kombu's Redis key and channel names (PROTOCOL.md §1). `prefix` is Celery's global_keyprefix:
 * kombu applies it to every key AND to pub/sub channels (its PrefixedRedisPubSub prefixes
 * SUBSCRIBE/PSUBSCRIBE and PUBLISH), so we do the same to stay interoperable.
 */

/** kombu's separator inside binding members and priority list names. */
export const SEP = "\x06\x16";
/** kombu's priority steps in the order BRPOP serves them (lower first on Redis). */
export const PRIORITY_STEPS = [0, 3, 6, 9] as const;

/** clamp 0–9, round down to a step, as kombu's producer does */
export function priorityStep(p: unknown): number {
  const n = typeof p === "number" && Number.isFinite(p) ? Math.min(9, Math.max(0, Math.trunc(p))) : 0;
  return PRIORITY_STEPS[Math.floor(n / 3)];
}

/** Exchanges whose binding sets are plumbing, not task queues. */
const NON_QUEUE_EXCHANGES = new Set(["celeryev", "celery.pidbox", "reply.celery.pidbox"]);

export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

export class KeyMap {
  readonly unacked: string;
  readonly unackedIndex: string;
  readonly unackedMutex: string;
  readonly eventPrefix: string;
  readonly eventPattern: string;
  readonly pidboxChannel: string;
  readonly bindingPrefix: string;
  /** Petal's own list of refused messages (no kombu counterpart; newest at the head) */
  readonly deadLetters: string;

  constructor(
    readonly prefix: string,
    readonly db: number,
  ) {
    this.unacked = prefix + "unacked";
    this.unackedIndex = prefix + "unacked_index";
    this.unackedMutex = prefix + "unacked_mutex";
    this.eventPrefix = `${prefix}/${db}.celeryev/`;
    this.eventPattern = escapeGlob(this.eventPrefix) + "*";
    this.pidboxChannel = `${prefix}/${db}.celery.pidbox`;
    this.bindingPrefix = prefix + "_kombu.binding.";
    this.deadLetters = prefix + "petal.dead-letters";
  }

  /** the list holding `queue`'s messages of one priority step */
  list(queue: string, step: number): string {
    return step === 0 ? this.prefix + queue : this.prefix + queue + SEP + step;
  }

  /** all four lists of a queue, in the order BRPOP must serve them */
  lists(queue: string): string[] {
    return PRIORITY_STEPS.map((s) => this.list(queue, s));
  }

  binding(exchange: string): string {
    return this.bindingPrefix + exchange;
  }

  /** the PSUBSCRIBE pattern that only matches the pidbox channel itself */
  get pidboxPattern(): string {
    return escapeGlob(this.pidboxChannel);
  }

  eventChannel(routingKey: string): string {
    return this.eventPrefix + routingKey;
  }

  resultKey(taskId: string): string {
    return this.prefix + "celery-task-meta-" + taskId;
  }

  /** exchange name of a `_kombu.binding.<exchange>` key, null for plumbing exchanges */
  queueExchangeOf(bindingKey: string): string | null {
    if (!bindingKey.startsWith(this.bindingPrefix)) return null;
    const ex = bindingKey.slice(this.bindingPrefix.length);
    return NON_QUEUE_EXCHANGES.has(ex) ? null : ex;
  }
}

/** `routing_key SEP pattern SEP queue`, kombu's binding member */
export function bindingMember(routingKey: string, pattern: string, queue: string): string {
  return routingKey + SEP + pattern + SEP + queue;
}

export function parseBindingMember(member: string): { routingKey: string; pattern: string; queue: string } | null {
  const parts = member.split(SEP);
  if (parts.length !== 3) return null;
  return { routingKey: parts[0], pattern: parts[1], queue: parts[2] };
}
