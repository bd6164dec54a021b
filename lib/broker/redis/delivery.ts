/**
 * One delivery of the Redis consumer: settled once; ack and reject remove its unacked entry
 * (batched by the consumer), requeue puts the exact popped message back, marked redelivered.
 */
import type { Envelope } from "../../protocol/types";
import type { Delivery } from "../types";
import type { RedisConsumer } from "./consumer";
import { restoreEntry, unackedValue } from "./unacked";

export class RedisDelivery implements Delivery {
  private settled = false;

  constructor(
    private readonly consumer: RedisConsumer,
    readonly queue: string,
    readonly envelope: Envelope,
    readonly deliveryTag: string,
    readonly redelivered: boolean,
    /** the raw message as popped, to requeue our own copy, not the caller's object */
    private readonly raw: string,
    private readonly exchange: string,
    private readonly routingKey: string,
  ) {}

  /** false when already settled or the broker is closed (then the call is a no-op) */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.consumer.hostRef.isClosed()) {
      this.consumer.release();
      return false;
    }
    return true;
  }

  async ack(): Promise<void> {
    if (!this.settle()) return;
    // The slot frees at once: the ZREM/HDEL follow on the same connection, so a delivery popped
    // next is recorded after this one is settled, and nothing can overtake an ack.
    const done = this.consumer.ack(this.deliveryTag);
    this.consumer.release();
    await done;
  }

  reject(): Promise<void> {
    return this.ack();
  }

  async requeue(): Promise<void> {
    if (!this.settle()) return;
    const { cmd, keys } = this.consumer.hostRef;
    // RPUSH: the consumer end of the list, so it is served next (the Delivery contract). The
    // prefetch slot frees only afterwards, or our own next BRPOP could overtake the push.
    try {
      await restoreEntry(cmd, keys, this.deliveryTag, unackedValue(this.raw, this.exchange, this.routingKey), false);
    } catch (err) {
      this.consumer.hostRef.onError(err, "requeue");
    } finally {
      this.consumer.release();
    }
  }
}
