/**
 * What a consumer popped, read: the turn script's reply as messages, and one message's
 * envelope, delivery tag and origin (exchange, routing key) as kombu records them in `unacked`.
 */
import { parseEnvelope, uuid4 } from "../../protocol/envelope";
import type { Envelope } from "../../protocol/types";

/** One popped message: its list key, raw text, and its delivery tag when the pop already recorded it as unacked. */
export interface Popped {
  key: string;
  raw: string;
  recordedTag: string | null;
}

export interface Accepted {
  key: string;
  raw: string;
  queue: string;
  envelope: Envelope;
  tag: string;
  exchange: string;
  routingKey: string;
  recorded: boolean;
}

/** The turn script's reply ([list index (1-based), message, tag or '', …]) as messages. */
export function poppedFromReply(reply: (string | number)[], listKeys: readonly string[]): Popped[] {
  const out: Popped[] = [];
  for (let i = 0; i + 2 < reply.length; i += 3) {
    const tag = String(reply[i + 2]);
    out.push({ key: listKeys[Number(reply[i]) - 1], raw: String(reply[i + 1]), recordedTag: tag === "" ? null : tag });
  }
  return out;
}

/** Parse one message popped for `queue`. Throws ProtocolError when it is not a kombu envelope. */
export function readPopped(p: Popped, queue: string): Accepted {
  const { key, raw, recordedTag } = p;
  const envelope = parseEnvelope(raw);
  if (!envelope.properties.delivery_info || typeof envelope.properties.delivery_info !== "object")
    envelope.properties.delivery_info = { exchange: "", routing_key: queue };
  let tag = envelope.properties.delivery_tag;
  if (typeof tag !== "string" || tag === "") tag = envelope.properties.delivery_tag = uuid4();
  const di = envelope.properties.delivery_info;
  const exchange = typeof di.exchange === "string" ? di.exchange : "";
  // The anonymous exchange routes by queue name: record where it really came from.
  const routingKey = exchange === "" || typeof di.routing_key !== "string" ? queue : di.routing_key;
  return { key, raw, queue, envelope, tag: recordedTag ?? tag, exchange, routingKey, recorded: recordedTag !== null };
}
