/**
 * A consumer's acks, batched per loop turn: every ack of a turn shares one promise and leaves in
 * one call, either riding on the consumer's next turn script (take) or in an ack script of its
 * own at the end of the turn (send). An ack never rejects: on failure its entries stay in
 * `unacked` and are restored after the visibility timeout, as kombu's would be.
 */
import type { Redis } from "ioredis";
import type { KeyMap } from "./keys";
import { scriptCommands } from "./scripts";
import { atTurnEnd } from "./turn";

export interface AckHost {
  readonly cmd: Redis;
  readonly keys: KeyMap;
  onError(err: unknown, where: string): void;
}

export interface TakenAcks {
  tags: string[];
  /** settle the callers' promise (the call carrying the tags was answered or failed) */
  resolve: () => void;
}

export class AckBatch {
  private tags: string[] = [];
  private done: Promise<void> | null = null;
  private resolveDone: (() => void) | null = null;

  /** `atEnd` runs at the end of the turn of the first ack in a batch (normally: send, unless a turn script takes them). */
  constructor(
    private readonly host: AckHost,
    private readonly atEnd: () => void,
  ) {}

  add(tag: string): Promise<void> {
    this.tags.push(tag);
    if (!this.done) {
      this.done = new Promise<void>((resolve) => {
        this.resolveDone = resolve;
        atTurnEnd(this.host.cmd, this.atEnd);
      });
    }
    return this.done;
  }

  /** The pending acks, for a turn script to carry; null when there are none. */
  take(): TakenAcks | null {
    const resolve = this.resolveDone;
    if (this.tags.length === 0 || !resolve) return null;
    const tags = this.tags;
    this.tags = [];
    this.done = null;
    this.resolveDone = null;
    return { tags, resolve };
  }

  /** Send the pending acks now, in an ack script of their own. */
  send(): void {
    const acks = this.take();
    if (!acks) return;
    const { cmd, keys } = this.host;
    scriptCommands(cmd)
      .petalAck(keys.unackedIndex, keys.unacked, ...acks.tags)
      .catch((err) => this.host.onError(err, "ack"))
      .finally(acks.resolve);
  }
}
