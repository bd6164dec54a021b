/**
 * Conformance of the optional dead-letter pair (Broker.deadLetter / deadLetters): every
 * transport that offers it keeps the newest DEAD_LETTERS_KEPT entries, newest first, clipped.
 * `factory` must give a broker over an empty dead-letter store each call (redis: a fresh prefix).
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEAD_LETTER_RAW_MAX, DEAD_LETTERS_KEPT, type Broker, type DeadLetterEntry } from "./types";

const entry = (i: number, extra: Partial<DeadLetterEntry> = {}): DeadLetterEntry => ({
  at: 1_700_000_000 + i,
  queue: `q${i % 3}`,
  reason: `reason ${i}`,
  code: "bad_json",
  raw: `raw-${i}`,
  worker: i % 2 === 0 ? `w${i}@test` : null,
  taskId: i % 2 === 0 ? `id-${i}` : null,
  ...extra,
});

export function runDeadLetterConformance(name: string, factory: () => Promise<Broker>): void {
  describe(`dead letters: ${name}`, () => {
    const open: Broker[] = [];
    const make = async () => {
      const b = await factory();
      open.push(b);
      await b.connect();
      if (!b.deadLetter || !b.deadLetters) throw new Error(`${name} has no dead-letter store`);
      return b as Broker & Required<Pick<Broker, "deadLetter" | "deadLetters">>;
    };
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((b) => b.close()));
    });

    it("starts empty, then lists the newest first with every field", async () => {
      const b = await make();
      expect(await b.deadLetters(10)).toEqual({ total: 0, entries: [] });
      for (let i = 0; i < 3; i++) await b.deadLetter(entry(i));
      const r = await b.deadLetters(2);
      expect(r.total).toBe(3);
      expect(r.entries).toEqual([entry(2), entry(1)]);
      expect((await b.deadLetters(0)).entries).toEqual([]);
      expect((await b.deadLetters(100)).entries.map((e) => e.reason)).toEqual(["reason 2", "reason 1", "reason 0"]);
    });

    it("keeps at most DEAD_LETTERS_KEPT entries and clips huge raw text", async () => {
      const b = await make();
      for (let i = 0; i < DEAD_LETTERS_KEPT + 5; i++) await b.deadLetter(entry(i));
      const r = await b.deadLetters(DEAD_LETTERS_KEPT + 50);
      expect(r.total).toBe(DEAD_LETTERS_KEPT);
      expect(r.entries).toHaveLength(DEAD_LETTERS_KEPT);
      expect(r.entries[0].reason).toBe(`reason ${DEAD_LETTERS_KEPT + 4}`);
      expect(r.entries[DEAD_LETTERS_KEPT - 1].reason).toBe("reason 5");
      await b.deadLetter(entry(-1, { raw: "x".repeat(DEAD_LETTER_RAW_MAX * 2) }));
      const [big] = (await b.deadLetters(1)).entries;
      expect(big.raw.length).toBeLessThan(DEAD_LETTER_RAW_MAX + 10);
      expect(big.raw.startsWith("xxx")).toBe(true);
    });
  });
}
