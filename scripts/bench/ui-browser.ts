/**
 * The browser half of `npm run bench:ui`: what one Chromium tab sees of a loaded Petal.
 * - render: from the input event (a state chip click, a header click, Enter in the search box)
 *   to the frame where every rendered row answers the new question;
 * - traffic: socket.io frames and bytes received per second (CDP Network.webSocketFrameReceived);
 * - latency: wall time from a task-succeeded publish to the frame its row shows SUCCESS.
 */
import type { Browser, Page } from "@playwright/test";

export { CHROMIUM_ARGS as LAUNCH_ARGS } from "../../e2e/chromium";

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: "dark" });
  // tsx keeps function names with an `__name` helper that the page does not have.
  await page.addInitScript({ content: "globalThis.__name = (f) => f;" });
  // Socket frame times in page time, to split a render into its phases.
  await page.addInitScript({
    content: `(() => {
      const log = (globalThis.__ws = []);
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (d) {
        if (typeof d === "string" && d.startsWith('42')) log.push({ t: performance.now(), dir: "out", head: d.slice(0, 40) });
        return send.call(this, d);
      };
      const Orig = globalThis.WebSocket;
      globalThis.WebSocket = class extends Orig {
        constructor(...a) {
          super(...a);
          this.addEventListener("message", (e) => {
            if (typeof e.data === "string" && e.data.startsWith('42["update"')) log.push({ t: performance.now(), dir: "in", head: e.data.slice(0, 60), full: e.data.includes('"full":true') });
          });
        }
      };
    })();`,
  });
  await page.goto(url);
  return page;
}

export interface Traffic {
  msgsPerS: number;
  bytesPerS: number;
  updatesPerS: number;
  maxMsgBytes: number;
  /** bytes/s of each update key (overview, tasks, charts, ...) */
  perKey: Record<string, number>;
}

/** Socket traffic into `page` over `seconds`: update messages and bytes, per second. */
export async function measureTraffic(page: Page, seconds: number): Promise<Traffic> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  let frames = 0;
  let updates = 0;
  let bytes = 0;
  let maxMsg = 0;
  const byKey: Record<string, number> = {};
  cdp.on("Network.webSocketFrameReceived", (e: { response: { opcode: number; payloadData: string } }) => {
    const data = e.response.payloadData;
    // Text frames are the payload itself; binary ones arrive base64-encoded.
    const n = e.response.opcode === 1 ? Buffer.byteLength(data, "utf8") : Math.floor((data.length * 3) / 4);
    frames++;
    bytes += n;
    maxMsg = Math.max(maxMsg, n);
    if (data.startsWith('42["update"')) {
      updates++;
      try {
        const [, u] = JSON.parse(data.slice(2)) as [string, Record<string, unknown>];
        for (const [k, v] of Object.entries(u)) byKey[k] = (byKey[k] ?? 0) + JSON.stringify(v).length;
      } catch {
        /* a frame that is not JSON counts in the totals only */
      }
    }
  });
  await page.waitForTimeout(seconds * 1000);
  await cdp.detach();
  const perKey: Record<string, number> = {};
  for (const [k, v] of Object.entries(byKey)) perKey[k] = v / seconds;
  return { msgsPerS: frames / seconds, updatesPerS: updates / seconds, bytesPerS: bytes / seconds, maxMsgBytes: maxMsg, perKey };
}

/**
 * Installs window.__arm(kind, value): resolves with ms from the next click/Enter to the
 * animation frame in which every rendered row (at least `minRows`) satisfies the check.
 */
async function installProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Kind = "state" | "name";
    const w = window as unknown as Record<string, unknown>;
    if (w.__arm) return;
    let t0: number | null = null;
    w.__phases = [];
    const mark = (e: Event) => {
      if (e.type === "keydown" && (e as KeyboardEvent).key !== "Enter") return;
      if (e.type === "input" && !(w.__markInput as boolean)) return;
      if (t0 === null) t0 = e.timeStamp;
    };
    document.addEventListener("click", mark, true);
    document.addEventListener("keydown", mark, true);
    document.addEventListener("input", mark, true);
    w.__arm = (kind: Kind, value: string, minRows: number) =>
      new Promise<number>((resolve, reject) => {
        t0 = null;
        const ok = () => {
          const rows = document.querySelectorAll<HTMLElement>('[data-testid="task-row"]');
          if (rows.length < minRows) return false;
          for (const r of rows) {
            const v = kind === "state" ? r.dataset.state : r.querySelector("a")?.textContent?.trim();
            if (v !== value) return false;
          }
          return true;
        };
        const timer = setTimeout(() => {
          obs.disconnect();
          reject(new Error(`timeout waiting for every row ${kind}=${value}`));
        }, 20_000);
        const check = () => {
          if (t0 === null || !ok()) return;
          obs.disconnect();
          clearTimeout(timer);
          const start = t0;
          const log = (window as unknown as { __ws: { t: number; dir: string; full?: boolean }[] }).__ws;
          const sent = log.find((e) => e.dir === "out" && e.t >= start);
          const got = sent ? log.find((e) => e.dir === "in" && e.full && e.t >= sent.t) : undefined;
          requestAnimationFrame((ts) => {
            (window as unknown as { __phases: number[][] }).__phases.push([sent ? sent.t - start : NaN, sent && got ? got.t - sent.t : NaN, got ? ts - got.t : NaN]);
            resolve(ts - start);
          });
        };
        const obs = new MutationObserver(check);
        obs.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      });
  });
}

async function arm(page: Page, kind: "state" | "name", value: string): Promise<() => Promise<number>> {
  const handle = page.evaluate(
    ([k, v]) => (window as unknown as { __arm: (k: string, v: string, n: number) => Promise<number> }).__arm(k, v, 5),
    [kind, value] as const,
  );
  return () => handle;
}

/** Wait until the rows are not all `value` (the view went back to mixed rows). */
async function waitMixed(page: Page, kind: "state" | "name", value: string): Promise<void> {
  await page.waitForFunction(
    ([k, v]) => {
      const rows = document.querySelectorAll<HTMLElement>('[data-testid="task-row"]');
      if (rows.length < 5) return false;
      for (const r of rows) if ((k === "state" ? r.dataset.state : r.querySelector("a")?.textContent?.trim()) !== v) return true;
      return false;
    },
    [kind, value] as const,
    { timeout: 20_000 },
  );
}

export interface RenderTimes {
  filter: number[];
  sort: number[];
  search: number[];
  /** from the input event of a typed search (no Enter): includes the box's debounce */
  searchTyped: number[];
  /** medians over every sample: input → subscribe sent, → snapshot received, → frame */
  phases?: { toSubscribe: number; serverRoundTrip: number; toFrame: number };
  /** the 3 slowest samples as "subscribe+roundtrip+frame" ms */
  slowest?: string[];
}

/** Filter, sort and search round trips on /tasks, `samples` of each. */
export async function measureRender(page: Page, base: string, samples: number): Promise<RenderTimes> {
  const out: RenderTimes = { filter: [], sort: [], search: [], searchTyped: [] };
  await page.goto(`${base}/tasks`);
  await page.locator('[data-testid="task-row"]').first().waitFor({ timeout: 60_000 });
  await installProbe(page);
  const chip = page.locator('[data-testid="state-chip"][data-state="FAILURE"]');
  for (let i = 0; i < samples; i++) {
    const done = await arm(page, "state", "FAILURE");
    await chip.click();
    out.filter.push(await done());
    await chip.click();
    await waitMixed(page, "state", "FAILURE");
  }
  const header = page.getByRole("button", { name: "Name", exact: true });
  for (let i = 0; i < samples; i++) {
    // ascending: the smallest name first; second click: descending; third: back to default.
    let done = await arm(page, "name", "proj.tasks.job_0");
    await header.click();
    out.sort.push(await done());
    done = await arm(page, "name", "proj.tasks.job_9");
    await header.click();
    out.sort.push(await done());
    await header.click();
    await waitMixed(page, "name", "proj.tasks.job_9");
  }
  const box = page.getByRole("searchbox", { name: "Search tasks" });
  const terms = ["job_13", "job_17", "job_4", "job_11", "job_5"];
  for (let i = 0; i < samples; i++) {
    const term = terms[i % terms.length];
    // Enter sends at once (typing alone waits for the 250 ms debounce).
    await box.fill(term);
    const done = await arm(page, "name", `proj.tasks.${term}`);
    await box.press("Enter");
    out.search.push(await done());
  }
  const phases = await page.evaluate(() => (window as unknown as { __phases: number[][] }).__phases.slice());
  // Typed, no Enter: the input event starts the clock, so the search box's debounce counts.
  await page.evaluate(() => ((window as unknown as { __markInput: boolean }).__markInput = true));
  for (let i = 0; i < samples; i++) {
    const term = terms[(i + 2) % terms.length];
    const done = await arm(page, "name", `proj.tasks.${term}`);
    await box.fill(term);
    out.searchTyped.push(await done());
  }
  await page.evaluate(() => ((window as unknown as { __markInput: boolean }).__markInput = false));
  await box.fill("");
  await box.press("Enter");
  const med = (i: number) => pct(phases.map((p) => p[i]).filter((x) => Number.isFinite(x)), 50);
  out.phases = { toSubscribe: med(0), serverRoundTrip: med(1), toFrame: med(2) };
  // The slowest samples, phase by phase: where an outlier's time went.
  out.slowest = phases
    .map((p) => ({ total: p[0] + p[1] + p[2], p }))
    .filter((x) => Number.isFinite(x.total))
    .sort((a, b) => b.total - a.total)
    .slice(0, 3)
    .map((x) => x.p.map((v) => Math.round(v)).join("+"));
  return out;
}

/** Records, in the page, the wall-clock ms at which each row first shows SUCCESS. */
export async function watchSuccess(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Record<string, number> = ((window as unknown as { __seen: Record<string, number> }).__seen = {});
    const scan = () => {
      const now = performance.timeOrigin + performance.now();
      for (const row of document.querySelectorAll<HTMLElement>('[data-testid="task-row"]')) {
        const id = row.dataset.taskId;
        if (id && seen[id] === undefined && row.dataset.state === "SUCCESS") seen[id] = now;
      }
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

export async function seenTimes(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => (window as unknown as { __seen: Record<string, number> }).__seen);
}
