import { expect, test } from "@playwright/test";
import { onlineWorkers, parseAge } from "./helpers";

test.describe.configure({ mode: "serial" });

test("three demo workers are online and their heartbeat age resets live", async ({ page, request }) => {
  await expect.poll(async () => (await onlineWorkers(request)).length, { timeout: 20_000 }).toBe(3);
  await page.goto("/");
  const online = page.locator('[data-testid="worker-row"][data-status="online"]');
  await expect(online).toHaveCount(3);

  // Sample the first worker's ticking age for ~5 s: it must grow between heartbeats (the page
  // ticks on its own) and drop back when a heartbeat arrives (pushed over the socket).
  const age = online.first().getByTestId("heartbeat-age");
  const samples: number[] = [];
  for (let i = 0; i < 25; i++) {
    samples.push(parseAge((await age.textContent()) ?? ""));
    await page.waitForTimeout(200);
  }
  let rises = 0;
  let resets = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i] > samples[i - 1]) rises++;
    if (samples[i] < samples[i - 1] - 0.3) resets++;
  }
  expect(rises, `ages: ${samples.join(", ")}`).toBeGreaterThan(5);
  expect(resets, `ages: ${samples.join(", ")}`).toBeGreaterThanOrEqual(1);
  expect(Math.max(...samples)).toBeLessThan(6);
});

test("the worker page inspects the worker live and grows its pool, reporting the reply", async ({ page, request }) => {
  const [name] = await onlineWorkers(request);
  await page.goto(`/workers/${encodeURIComponent(name)}`);
  await expect(page.getByText(/inspected .* ago/)).toBeVisible();
  await expect(page.getByText("Max concurrency")).toBeVisible();
  await page.getByRole("button", { name: "Pool grow", exact: true }).click();
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Growing '${name}' worker's pool by 1` }).first()).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "pool will grow" }).first()).toBeVisible();
});

test("a worker that shuts down is shown as offline", async ({ page, request }) => {
  test.setTimeout(90_000);
  const names = await onlineWorkers(request);
  const victim = names[names.length - 1];
  await page.goto("/");
  const row = page.locator(`[data-testid="worker-row"][data-worker="${victim}"]`);
  await expect(row).toHaveAttribute("data-status", "online");
  const res = await request.post(`/api/worker/shutdown/${encodeURIComponent(victim)}`);
  expect(res.status(), await res.text()).toBe(200);
  // A warm shutdown (as Celery's) lets running tasks finish first; demo tasks run up to 30 s.
  await expect(row).toHaveAttribute("data-status", "offline", { timeout: 60_000 });
  await page.goto(`/workers/${encodeURIComponent(victim)}`);
  await expect(page.getByText(/offline/i).first()).toBeVisible();
});
