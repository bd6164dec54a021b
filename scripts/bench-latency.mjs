#!/usr/bin/env node
// Event-to-screen latency: the time from a worker's task-succeeded event (its `timestamp`, the
// worker's clock, same machine) to the moment the row on /tasks shows SUCCESS in Chromium.
// Starts its own production server with the demo workload running as background load.
//   npm run bench:latency [-- --tasks 200 --rate 10]
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "@playwright/test";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("tasks", 200);
const RATE = arg("rate", 10);
const port = arg("port", 5590);
const base = `http://127.0.0.1:${port}`;

const server = spawn(process.execPath, ["scripts/start.mjs", "--port", String(port)], {
  cwd: root,
  env: { ...process.env, PETAL_DEMO_RATE: process.env.PETAL_DEMO_RATE ?? "10", PETAL_DEMO_CHAOS: "0" },
  stdio: ["ignore", "inherit", "inherit"],
});
const stop = () => server.kill("SIGTERM");
process.on("exit", stop);

async function waitUp() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/healthcheck`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("server did not start");
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

try {
  await waitUp();
  const browser = await chromium.launch({
    executablePath: process.env.PETAL_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${base}/tasks?taskname=bench.noop`);
  // Record, in the page, the wall-clock time a row first shows SUCCESS.
  await page.evaluate(() => {
    const seen = (window.__petalSeen = {});
    const scan = () => {
      for (const row of document.querySelectorAll('[data-testid="task-row"]')) {
        const id = row.getAttribute("data-task-id");
        if (id && !seen[id] && row.querySelector('[data-testid="task-state"]')?.textContent?.trim() === "SUCCESS") {
          seen[id] = performance.timeOrigin + performance.now();
        }
      }
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.waitForTimeout(1000);

  const ids = [];
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${base}/api/task/send-task/bench.noop`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ args: [i] }),
    });
    ids.push((await res.json())["task-id"]);
    await new Promise((r) => setTimeout(r, 1000 / RATE));
  }
  await page.waitForTimeout(3000);
  const seen = await page.evaluate(() => window.__petalSeen);
  const lat = [];
  for (const id of ids) {
    const info = await (await fetch(`${base}/api/task/info/${id}`)).json().catch(() => null);
    if (info?.succeeded && seen[id]) lat.push(seen[id] - info.succeeded * 1000);
  }
  lat.sort((a, b) => a - b);
  await browser.close();
  if (lat.length === 0) throw new Error("no task reached the screen");
  console.log(`event-to-screen latency over ${lat.length}/${N} tasks at ${RATE}/s (demo load on):`);
  console.log(`  p50 ${pct(lat, 50).toFixed(0)} ms   p95 ${pct(lat, 95).toFixed(0)} ms   p99 ${pct(lat, 99).toFixed(0)} ms   max ${lat[lat.length - 1].toFixed(0)} ms`);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  stop();
}
