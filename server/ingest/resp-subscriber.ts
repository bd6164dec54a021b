/**
 * A pattern subscriber that reads first and parses later: socket chunks are queued as they
 * arrive and RESP is parsed in slices of a few ms, so the socket is drained at memcpy speed
 * however long decoding takes. ioredis parses every chunk inside its `data` handler; under a
 * pipelined burst (a publisher on this machine reaches ~1M events/s) that parse alone is slower
 * than Redis writes, the pub/sub output buffer passes its 32 MB limit and Redis drops the client.
 *
 * Only what a subscriber needs: AUTH, CLIENT SETNAME, PSUBSCRIBE, PUNSUBSCRIBE, reconnect with
 * back-off (Redis forgets subscriptions with the connection: each connect subscribes again).
 * redis:// and rediss:// only; sentinel:// stays on ioredis (event-thread-worker.ts).
 */
import net from "node:net";
import tls from "node:tls";

export interface RespSubscriberOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** TLS options for rediss:// (default: plain TCP) */
  tls?: tls.ConnectionOptions;
  /** CLIENT SETNAME (default: none) */
  name?: string;
  pattern: string;
  /** each published payload, in order (utf8 text) */
  onMessage(payload: string): void;
  /** parsing ran this slice and there may be more: a good moment to post a batch */
  onSliceEnd?(): void;
  onStatus?(status: "ready" | "reconnecting" | "error", error?: string): void;
  /** parse at most this long before reading the socket again, ms (default: 4) */
  sliceMs?: number;
}

const CR = 13;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;

/** Reconnect delay as the broker's connections: quick to pick up a restart, never spinning. */
const backoff = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

function command(...args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s, "utf8");
}

export class RespSubscriber {
  /** times the connection was lost after it had been ready */
  reconnects = 0;
  /** bytes read and not parsed yet */
  queuedBytes = 0;
  private sock: net.Socket | null = null;
  private chunks: Buffer[] = [];
  private rest: Buffer | null = null;
  private parseScheduled = false;
  private closing = false;
  private attempt = 0;
  private everReady = false;
  private timer: NodeJS.Timeout | null = null;
  private subscribed: (() => void) | null = null;
  private unsubscribed: (() => void) | null = null;
  private readonly sliceMs: number;

  constructor(private readonly o: RespSubscriberOptions) {
    this.sliceMs = o.sliceMs ?? 1;
  }

  /** Connect and subscribe; resolves once the first PSUBSCRIBE is confirmed (retrying until then). */
  start(): Promise<void> {
    const first = new Promise<void>((resolve) => (this.subscribed = resolve));
    this.connect();
    return first;
  }

  /** PUNSUBSCRIBE, parse every message that came before its confirmation, then close. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    const sock = this.sock;
    if (sock && !sock.destroyed && this.everReady) {
      const done = new Promise<void>((resolve) => (this.unsubscribed = resolve));
      sock.write(command("PUNSUBSCRIBE", this.o.pattern));
      let t: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
      clearTimeout(t);
    }
    this.parseAll();
    sock?.destroy();
    this.sock = null;
  }

  private connect(): void {
    const { host, port } = this.o;
    // SNI only for names: Node warns (DEP0123) when it is an IP; the certificate is still checked against the IP.
    const sni = net.isIP(host) ? {} : { servername: host };
    const sock: net.Socket = this.o.tls ? tls.connect({ host, port, ...sni, ...this.o.tls }) : net.connect({ host, port });
    this.sock = sock;
    this.chunks = [];
    this.rest = null;
    this.queuedBytes = 0;
    sock.setNoDelay(true);
    sock.once(this.o.tls ? "secureConnect" : "connect", () => {
      const hello: Buffer[] = [];
      if (this.o.password !== undefined) hello.push(this.o.username ? command("AUTH", this.o.username, this.o.password) : command("AUTH", this.o.password));
      if (this.o.name) hello.push(command("CLIENT", "SETNAME", this.o.name));
      hello.push(command("PSUBSCRIBE", this.o.pattern));
      sock.write(Buffer.concat(hello));
    });
    sock.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.queuedBytes += chunk.length;
      this.scheduleParse();
    });
    sock.on("error", (err) => this.o.onStatus?.("error", err.message));
    sock.once("close", () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.parseAll();
      if (this.closing) return;
      if (this.everReady) this.reconnects++;
      this.o.onStatus?.("reconnecting");
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt++));
    });
  }

  private scheduleParse(): void {
    if (this.parseScheduled) return;
    this.parseScheduled = true;
    setImmediate(() => this.parseSlice());
  }

  private parseAll(): void {
    while (this.chunks.length > 0) this.parseSlice(Infinity);
  }

  /** Parse queued chunks for at most sliceMs; whatever is left waits for the next turn. */
  private parseSlice(budgetMs = this.sliceMs): void {
    this.parseScheduled = false;
    const until = performance.now() + budgetMs;
    while (this.chunks.length > 0) {
      const chunk = this.chunks.shift() as Buffer;
      this.queuedBytes -= chunk.length;
      const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
      const used = this.parseFrames(buf);
      this.rest = used < buf.length ? buf.subarray(used) : null;
      if (performance.now() > until) break;
    }
    if (this.chunks.length > 0) this.scheduleParse();
    this.o.onSliceEnd?.();
  }

  /** Parse every complete frame in buf; returns the bytes consumed. */
  private parseFrames(buf: Buffer): number {
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      const start = pos;
      const type = buf[pos];
      if (type !== STAR) {
        // +OK / :n / -ERR lines (AUTH, SETNAME replies).
        const eol = buf.indexOf(CR, pos);
        if (eol < 0 || eol + 1 >= len) return start;
        if (type === MINUS) {
          this.o.onStatus?.("error", buf.toString("utf8", pos + 1, eol));
          // AUTH or PSUBSCRIBE refused: drop the connection and try again after the back-off.
          if (!this.everReady) this.sock?.destroy();
        }
        pos = eol + 2;
        continue;
      }
      // An array of bulk strings (or integers): pmessage, psubscribe, punsubscribe.
      let eol = buf.indexOf(CR, pos);
      if (eol < 0 || eol + 1 >= len) return start;
      const n = parseInt(buf.toString("latin1", pos + 1, eol), 10);
      pos = eol + 2;
      let kind = "";
      let payloadStart = -1;
      let payloadEnd = -1;
      for (let i = 0; i < n; i++) {
        if (pos >= len) return start;
        eol = buf.indexOf(CR, pos);
        if (eol < 0 || eol + 1 >= len) return start;
        if (buf[pos] !== DOLLAR) {
          pos = eol + 2; // an integer element (subscription count)
          continue;
        }
        const size = parseInt(buf.toString("latin1", pos + 1, eol), 10);
        const dataStart = eol + 2;
        const dataEnd = dataStart + Math.max(0, size);
        if (dataEnd + 2 > len) return start;
        if (i === 0) kind = buf.toString("latin1", dataStart, dataEnd);
        else if (i === 3) {
          payloadStart = dataStart;
          payloadEnd = dataEnd;
        }
        pos = dataEnd + 2;
      }
      if (kind === "pmessage" && payloadStart >= 0) this.o.onMessage(buf.toString("utf8", payloadStart, payloadEnd));
      else if (kind === "psubscribe") this.onSubscribed();
      else if (kind === "punsubscribe") this.unsubscribed?.();
    }
    return pos;
  }

  private onSubscribed(): void {
    this.attempt = 0;
    if (this.everReady) this.o.onStatus?.("ready");
    this.everReady = true;
    const s = this.subscribed;
    this.subscribed = null;
    s?.();
  }
}
