/**
 * Raw celeryev payloads → one JSON text per batch, the cheap form the decoding thread hands the
 * main thread (a string crosses postMessage as one copy; decoded objects would be cloned one by
 * one, which costs the main thread more than parsing the text again: `npm run bench:ingest`).
 *
 * Every payload is decoded and its body parsed here, so a malformed one is counted and dropped
 * before it can corrupt the batch; the main thread's single JSON.parse of the batch cannot fail.
 * A `task.multi` body (a JSON array) contributes its elements, a single event itself, exactly
 * as splitEventBody does on the in-process path.
 */
import { STREAM_MARKER } from "../../lib/broker/redis/stream";
import { decodeEnvelopeText } from "../../lib/protocol/envelope";

export interface EventBatchText {
  /** a JSON array of event bodies, in arrival order */
  text: string;
  /** elements of that array */
  events: number;
  /** payloads since the last take() that could not be decoded (dropped) */
  rejected: number;
}

export class EventBatcher {
  private pieces: string[] = [];
  /** events waiting in the batch */
  events = 0;
  /** undecodable payloads since the last take() */
  rejected = 0;
  /** characters of body text waiting (a rough byte size of the batch) */
  chars = 0;
  /** payloads left out because they are in the event stream too (skipStreamKey) */
  skipped = 0;

  /**
   * @param skipStreamKey leave out payloads marked as also appended to this event stream: the
   * caller takes those from the stream (subscribeEvents' skipStreamed) (default: keep all)
   */
  constructor(private readonly skipStreamKey: string | null = null) {}

  /** Decode one raw payload into the batch; false (and counted) when it is not an event envelope. */
  add(payload: string): boolean {
    let text: string;
    let body: unknown;
    try {
      const d = decodeEnvelopeText(payload);
      if (this.skipStreamKey !== null && (d.envelope.properties as unknown as Record<string, unknown>)[STREAM_MARKER] === this.skipStreamKey) {
        this.skipped++;
        return true;
      }
      text = d.text;
      body = JSON.parse(text);
    } catch {
      this.rejected++;
      return false;
    }
    if (Array.isArray(body)) {
      if (body.length === 0) return true;
      // A parsed array's text starts with "[" and ends with "]" (give or take whitespace):
      // what lies between is its elements, ready to join with the other pieces.
      this.pieces.push(text.slice(text.indexOf("[") + 1, text.lastIndexOf("]")));
      this.events += body.length;
    } else {
      this.pieces.push(text);
      this.events++;
    }
    this.chars += text.length;
    return true;
  }

  /** The batch so far (null when there is nothing to report), and start a new one. */
  take(): EventBatchText | null {
    if (this.events === 0 && this.rejected === 0) return null;
    const out: EventBatchText = { text: "[" + this.pieces.join(",") + "]", events: this.events, rejected: this.rejected };
    this.pieces = [];
    this.events = 0;
    this.rejected = 0;
    this.chars = 0;
    return out;
  }
}

/** The main thread's half: one JSON.parse per batch. Throws if `text` did not come from take(). */
export function parseEventBatch(text: string): unknown[] {
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v)) throw new TypeError("event batch is not a JSON array");
  return v;
}
