import { expect, type APIRequestContext, type Page } from "@playwright/test";

export async function sendTask(
  request: APIRequestContext,
  name: string,
  body: { args?: unknown[]; kwargs?: Record<string, unknown>; countdown?: number; queue?: string },
): Promise<string> {
  const res = await request.post(`/api/task/async-apply/${name}`, { data: body });
  expect(res.status(), await res.text()).toBe(200);
  const json = (await res.json()) as { "task-id": string };
  return json["task-id"];
}

export async function taskInfo(request: APIRequestContext, id: string): Promise<Record<string, unknown> | null> {
  const res = await request.get(`/api/task/info/${id}`);
  if (res.status() === 404) return null;
  expect(res.status()).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

export async function waitForState(request: APIRequestContext, id: string, states: string[], timeoutMs = 20_000) {
  await expect
    .poll(async () => (await taskInfo(request, id))?.state ?? "UNKNOWN", { timeout: timeoutMs, intervals: [100, 200, 500] })
    .toMatch(new RegExp(`^(${states.join("|")})$`));
}

export async function onlineWorkers(request: APIRequestContext): Promise<string[]> {
  const res = await request.get("/api/workers?status=1");
  const map = (await res.json()) as Record<string, boolean>;
  return Object.entries(map)
    .filter(([, up]) => up)
    .map(([name]) => name)
    .sort();
}

/** Click an action button, then confirm it in the dialog. */
export async function confirmAction(page: Page, action: "Revoke" | "Terminate" | "Retry") {
  await page.getByRole("button", { name: action, exact: true }).click();
  await page.getByRole("button", { name: "Confirm" }).click();
}

/** Parse "0.8 s ago", "850 ms ago", "12 s ago", "1 m 3 s ago" into seconds. */
export function parseAge(text: string): number {
  let s = 0;
  const t = text.replace(/ago/, "").trim();
  for (const m of t.matchAll(/([\d.]+)\s*(ms|s|m|h)\b/g)) {
    const v = Number(m[1]);
    s += m[2] === "ms" ? v / 1000 : m[2] === "s" ? v : m[2] === "m" ? v * 60 : v * 3600;
  }
  if (/just now|now/.test(t) && s === 0) return 0;
  return s;
}
