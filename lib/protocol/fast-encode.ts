/**
 * Encode-side hot paths shared by envelope.ts and task-message.ts: every task a client sends
 * costs three uuid4s, a Python-style JSON body and a base64 of it, and every event batch another
 * JSON + base64. Browser-safe: Buffer is used only where it exists; callers keep a portable path.
 */

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

/** ids made per refill: one getRandomValues call (at most 65536 bytes) per this many */
const UUIDS_PER_REFILL = 256;
const uuidPool = new Uint8Array(16 * UUIDS_PER_REFILL);
let uuidNext = UUIDS_PER_REFILL;
/** Node: the refill's ids as one 36-char-per-id string, handed out as slices */
let uuidText = "";
const uuidBytes = NodeBuffer ? NodeBuffer.allocUnsafe(36 * UUIDS_PER_REFILL) : null;
const HEX_CODES = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/**
 * RFC 4122 version 4, lower case, as Python's str(uuid4()). One getRandomValues call per 256
 * ids instead of crypto.randomUUID's per-call WebIDL checks; in Node the 256 ids are written as
 * one string and each id is a slice of it: one small allocation per id, not twenty
 * concatenations that JSON.stringify then has to flatten.
 */
export function fastUuid4(): string {
  if (uuidNext === UUIDS_PER_REFILL) refillUuids();
  const i = uuidNext++;
  if (uuidBytes !== null) return uuidText.slice(36 * i, 36 * i + 36);
  const b = uuidPool;
  const k = 16 * i;
  return (
    HEX[b[k]] + HEX[b[k + 1]] + HEX[b[k + 2]] + HEX[b[k + 3]] + "-" +
    HEX[b[k + 4]] + HEX[b[k + 5]] + "-" +
    HEX[b[k + 6]] + HEX[b[k + 7]] + "-" +
    HEX[b[k + 8]] + HEX[b[k + 9]] + "-" +
    HEX[b[k + 10]] + HEX[b[k + 11]] + HEX[b[k + 12]] + HEX[b[k + 13]] + HEX[b[k + 14]] + HEX[b[k + 15]]
  );
}

function refillUuids(): void {
  const b = globalThis.crypto.getRandomValues(uuidPool);
  for (let k = 0; k < b.length; k += 16) {
    b[k + 6] = (b[k + 6] & 0x0f) | 0x40; // version 4
    b[k + 8] = (b[k + 8] & 0x3f) | 0x80; // variant 10xx
  }
  uuidNext = 0;
  if (uuidBytes === null) return;
  let o = 0;
  for (let k = 0; k < b.length; k++) {
    const v = b[k];
    uuidBytes[o++] = HEX_CODES[v >> 4];
    uuidBytes[o++] = HEX_CODES[v & 15];
    const at = k & 15;
    if (at === 3 || at === 5 || at === 7 || at === 9) uuidBytes[o++] = 45; // "-"
  }
  uuidText = uuidBytes.toString("latin1");
}

/**
 * Scratch buffers are reused between calls and grow with the payloads they see (an event batch
 * of 100 task events is ~40 KB of JSON, up to 3x that as UTF-8 room) up to this size; anything
 * bigger gets a one-off buffer (default: 1 MiB).
 */
const SCRATCH_MAX_BYTES = 1024 * 1024;
/** first scratch size (default: 64 KiB) */
const SCRATCH_MIN_BYTES = 64 * 1024;

/** A Buffer for its native codecs plus a plain Uint8Array view of it: indexing a Buffer (a subclass) is slower. */
interface Bytes {
  buf: Buffer;
  u8: Uint8Array;
}

function bytesOf(buf: Buffer): Bytes {
  return { buf, u8: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
}

let srcScratch: Bytes | null = null;
let dstScratch: Bytes | null = null;

function sized(kept: Bytes | null, size: number): Bytes {
  if (size > SCRATCH_MAX_BYTES) return bytesOf(NodeBuffer!.allocUnsafe(size));
  if (kept !== null && kept.buf.length >= size) return kept;
  let n = SCRATCH_MIN_BYTES;
  while (n < size) n *= 2;
  return bytesOf(NodeBuffer!.allocUnsafe(n));
}

function srcFor(size: number): Bytes {
  const b = sized(srcScratch, size);
  if (b.buf.length <= SCRATCH_MAX_BYTES) srcScratch = b;
  return b;
}

function dstFor(size: number): Bytes {
  const b = sized(dstScratch, size);
  if (b.buf.length <= SCRATCH_MAX_BYTES) dstScratch = b;
  return b;
}

/** Whether the Buffer-based writers below can run (Node); otherwise use the string paths. */
export const canWriteBytes = NodeBuffer !== undefined;

/** base64 of a string's UTF-8 bytes, without a fresh Buffer per call. Node only (canWriteBytes). */
export function base64OfUtf8(text: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
  const { buf } = srcFor(text.length * 3);
  return buf.toString("base64", 0, buf.write(text, 0, "utf8"));
}

const COMMA = 44;
const COLON = 58;
const QUOTE = 34;
const BACKSLASH = 92;
const SPACE = 32;
const HEX_DIGITS = "0123456789abcdef";

/**
 * JSON.stringify's output rewritten as Python's json.dumps writes it (", " and ": " outside
 * strings, every unit >= 0x7f inside them as \uXXXX, as ensure_ascii does), into a byte buffer:
 * the result is pure ASCII, so it can go to base64 or a one-byte string without any UTF-8 work
 * and without the many small slices a string rewrite would concatenate. Node only.
 */
function pythonizeToBytes(json: string): { buf: Buffer; length: number } {
  const n = json.length;
  const src = srcFor(3 * n);
  // As many UTF-8 bytes as units: all ASCII, the common case, read as bytes (faster than charCodeAt).
  if (src.buf.write(json, 0, "utf8") !== n) return pythonizeUnicode(json);
  const s = src.u8;
  const dst = dstFor(2 * n);
  const d = dst.u8;
  let o = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = s[i];
    d[o++] = c;
    if (inString) {
      // Escapes JSON.stringify writes are ASCII (\n, \", \uXXXX): copy the pair as is.
      if (c === BACKSLASH) d[o++] = s[++i];
      else if (c === QUOTE) inString = false;
      // DEL is ASCII but ensure_ascii escapes it: rare enough to redo the whole text the slow way.
      else if (c === 0x7f) return pythonizeUnicode(json);
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === COMMA || c === COLON) {
      d[o++] = SPACE;
    }
  }
  return { buf: dst.buf, length: o };
}

/** pythonizeToBytes for text holding non-ASCII units (each becomes 6 bytes: re-check room on each). */
function pythonizeUnicode(json: string): { buf: Buffer; length: number } {
  const n = json.length;
  let dst = dstFor(2 * n);
  let d = dst.u8;
  let o = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        d[o++] = c;
        d[o++] = json.charCodeAt(++i);
      } else if (c === QUOTE) {
        inString = false;
        d[o++] = c;
      } else if (c >= 0x7f) {
        if (o + 6 + 2 * (n - i) > d.length) {
          dst = grow(dst, o, o + 6 + 2 * (n - i));
          d = dst.u8;
        }
        d[o++] = BACKSLASH;
        d[o++] = 117; // u
        d[o++] = HEX_DIGITS.charCodeAt(c >> 12);
        d[o++] = HEX_DIGITS.charCodeAt((c >> 8) & 15);
        d[o++] = HEX_DIGITS.charCodeAt((c >> 4) & 15);
        d[o++] = HEX_DIGITS.charCodeAt(c & 15);
      } else {
        d[o++] = c;
      }
    } else {
      d[o++] = c;
      if (c === QUOTE) inString = true;
      else if (c === COMMA || c === COLON) d[o++] = SPACE;
    }
  }
  return { buf: dst.buf, length: o };
}

function grow(from: Bytes, used: number, need: number): Bytes {
  const next = bytesOf(NodeBuffer!.allocUnsafe(Math.max(need, 2 * from.buf.length)));
  from.buf.copy(next.buf, 0, 0, used);
  return next;
}

/** pythonizeToBytes as a (flat, one-byte) string. Node only. */
export function pythonizeBytesToString(json: string): string {
  const { buf, length } = pythonizeToBytes(json);
  return buf.toString("latin1", 0, length);
}

/** pythonizeToBytes as both the text and its base64, from one rewrite. Node only. */
export function pythonizeBytesToTextAndBase64(json: string): { text: string; base64: string } {
  const { buf, length } = pythonizeToBytes(json);
  return { text: buf.toString("latin1", 0, length), base64: buf.toString("base64", 0, length) };
}

/** pythonizeToBytes straight to base64: the Python-style text never exists as a string. Node only. */
export function pythonizeBytesToBase64(json: string): string {
  const { buf, length } = pythonizeToBytes(json);
  return buf.toString("base64", 0, length);
}
