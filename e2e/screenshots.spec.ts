import { expect, test } from "@playwright/test";
import { onlineWorkers, sendTask, waitForState } from "./helpers";

// Screenshots of each main page, kept as test artifacts (test-results/screenshots/).
const dir = "test-results/screenshots";

test("screenshots of the main pages", async ({ page, request }) => {
  const failed = await sendTask(request, "emails.send", { args: [], kwargs: { fail: true, duration_ms: 10 } });
  await waitForState(request, failed, ["FAILURE"]);
  const [worker] = await onlineWorkers(request);

  for (const [name, url] of [
    ["dashboard", "/"],
    ["tasks", "/tasks"],
    ["task", `/tasks/${failed}`],
    ["worker", `/workers/${encodeURIComponent(worker)}`],
    ["broker", "/broker"],
    ["charts", "/charts"],
  ] as const) {
    await page.goto(url);
    await expect(page.locator("main")).toBeVisible();
    await page.waitForTimeout(1200);
    await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
  }
});
