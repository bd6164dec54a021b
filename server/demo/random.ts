/**
 * Small, seedable randomness for the demo, so tests can make it deterministic and the values
 * look like production data (ids, emails, urls) rather than "foo".
 */

export type Rng = () => number;

export { seededRng } from "../../lib/testing/rng";

export const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/**
 * A duration skewed toward `min`: most draws are short, a few reach `max` (cubing a uniform
 * draw on a log scale gives the long tail real task runtimes have).
 */
export function skewedMs(rng: Rng, min: number, max: number): number {
  const u = rng();
  return Math.round(min * Math.pow(max / min, u * u * u));
}

const FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "wendy"];
const DOMAINS = ["example.com", "acme.io", "mail.example.org", "corp.example.net"];

export const email = (rng: Rng): string => `${pick(rng, FIRST)}.${int(rng, 1, 999)}@${pick(rng, DOMAINS)}`;

export function hex(rng: Rng, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

export const imageUrl = (rng: Rng): string =>
  `https://cdn.example.com/uploads/${int(rng, 2019, 2025)}/${String(int(rng, 1, 12)).padStart(2, "0")}/${hex(rng, 12)}.${pick(rng, ["jpg", "jpg", "png", "webp"])}`;

/** Sleep that ends early, rejecting with the signal's reason, when the task is terminated. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
