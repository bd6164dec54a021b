#!/usr/bin/env node
// `npm test`: Vitest (unit + integration), then Playwright (end-to-end against the production
// build). Prints the real totals from both runners' JSON reports as the last line, because CI
// reads that line and neither runner prints one it recognises.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ci = process.env.CI === "true" || process.env.CI === "1";
const results = path.join(root, "test-results");
mkdirSync(results, { recursive: true });
const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", NEXT_TELEMETRY_DISABLED: "1" };

const totals = { passed: 0, failed: 0, skipped: 0 };
const only = process.argv[2]; // "unit" | "e2e" | undefined

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  return r.status ?? 1;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

if (only !== "e2e") {
  const out = path.join(results, "vitest.json");
  rmSync(out, { force: true });
  const code = run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
  const r = readJson(out);
  if (r) {
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // a suite that failed to load has no tests: count it as a failure, not as nothing
    const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length;
    totals.failed += broken;
  } else if (code !== 0) {
    totals.failed += 1;
  }
}

if (only !== "unit") {
  const chromium = process.env.PETAL_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) {
    if (ci) {
      console.error(`e2e: Chromium not found at ${chromium}; CI must install it (apt-get install -y chromium)`);
      totals.failed += 1;
    } else {
      console.log(`e2e skipped: Chromium not found at ${chromium} (install it: apt-get install -y chromium)`);
    }
  } else {
    const out = path.join(results, "playwright.json");
    rmSync(out, { force: true });
    const code = run("npx", ["playwright", "test"]);
    const r = readJson(out);
    if (r?.stats) {
      totals.passed += (r.stats.expected ?? 0) + (r.stats.flaky ?? 0);
      totals.failed += r.stats.unexpected ?? 0;
      totals.skipped += r.stats.skipped ?? 0;
      if (code !== 0 && (r.stats.unexpected ?? 0) === 0) totals.failed += 1; // e.g. the web server did not start
    } else if (code !== 0) {
      totals.failed += 1;
    }
  }
}

console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
