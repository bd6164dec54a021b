/**
 * Where history writes run: a worker thread (default; SQLite's work stays off the event loop) or
 * the caller's thread. Either way one WriteOp at a time, each answered by one WriteReply.
 */
import { Worker } from "node:worker_threads";
import { Executor, type WriteOp, type WriteReply } from "./executor";

export interface Writer {
  run(op: WriteOp): Promise<WriteReply>;
  close(): Promise<void>;
}

class InlineWriter implements Writer {
  constructor(private readonly ex: Executor) {}
  async run(op: WriteOp): Promise<WriteReply> {
    return this.ex.run(op);
  }
  async close(): Promise<void> {
    this.ex.close();
  }
}

class ThreadWriter implements Writer {
  private seq = 0;
  private readonly waiting = new Map<number, (r: WriteReply) => void>();
  private dead: Error | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly worker: Worker) {
    worker.on("message", (r: WriteReply) => {
      const done = this.waiting.get(r.seq);
      this.waiting.delete(r.seq);
      done?.(r);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const [seq, done] of this.waiting) done({ seq, ok: false, error: err.message });
      this.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`history writer thread exited (code ${code})`)));
  }

  run(op: WriteOp): Promise<WriteReply> {
    if (this.dead) return Promise.resolve({ seq: op.seq, ok: false, error: this.dead.message });
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.worker.postMessage({ ...op, seq });
    });
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (!this.dead) await this.run({ kind: "close", seq: 0 });
      await this.worker.terminate();
    })());
  }
}

export async function createWriter(file: string, thread: boolean): Promise<Writer> {
  if (!thread) return new InlineWriter(new Executor(file));
  const worker = new Worker(new URL("./writer-thread.mjs", import.meta.url), { workerData: { file } });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { ready?: boolean; error?: string }) => {
      worker.off("error", reject);
      if (m.ready) resolve();
      else {
        void worker.terminate();
        reject(new Error(`history writer failed to open ${file}: ${m.error ?? "unknown error"}`));
      }
    };
    worker.once("message", onMessage);
    worker.once("error", reject);
  });
  return new ThreadWriter(worker);
}
