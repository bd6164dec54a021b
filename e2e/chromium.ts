/**
 * How Petal's browser tests and benchmarks start Debian's Chromium (STACK.md): headless, no
 * sandbox as root, and no background networking, whose connections this machine's closed
 * network refuses many at a time.
 */
export const CHROMIUM_PATH = process.env.PETAL_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
