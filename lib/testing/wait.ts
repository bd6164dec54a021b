/**
 * Test helper: poll until a condition holds. One helper for the tests that each had their own
 * `until`: a condition may be sync or async, and may answer a value (the first truthy one is
 * returned). A throw counts as "not yet" (a server between restarts, a page not there yet) and
 * is named in the timeout error, so a broken condition still shows its cause.
 */

type Maybe<T> = T | null | undefined | false;

/**
 * Resolve with the first truthy value of `fn`, polled every `everyMs` (default: 10 ms); reject
 * after `timeoutMs` (default: 5000 ms) with an error naming `what`.
 */
export async function waitFor<T>(fn: () => Maybe<T> | Promise<Maybe<T>>, what: string, timeoutMs = 5000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastError: unknown = undefined;
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
