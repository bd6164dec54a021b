import { expect, test } from "@playwright/test";
import { confirmAction, sendTask, taskInfo, waitForState } from "./helpers";

test("revoking a countdown task from its page: REVOKED, and it never runs", async ({ page, request }) => {
  const id = await sendTask(request, "images.resize", { args: [], kwargs: { duration_ms: 50 }, countdown: 4 });
  await page.goto(`/tasks/${id}`);
  await expect(page.getByTestId("task-state")).toHaveText(/PENDING|RECEIVED/);
  await confirmAction(page, "Revoke");
  await expect(page.getByRole("status").filter({ hasText: /revoke/i }).first()).toBeVisible();
  await expect(page.getByTestId("task-state")).toHaveText("REVOKED");
  // past its countdown: still revoked, never started
  await page.waitForTimeout(5_500);
  const info = await taskInfo(request, id);
  expect(info?.state).toBe("REVOKED");
  expect(info?.started).toBeNull();
  expect(info?.succeeded).toBeNull();
  await expect(page.getByTestId("task-state")).toHaveText("REVOKED");
});

test("terminating a running task", async ({ page, request }) => {
  const id = await sendTask(request, "reports.generate", { args: [], kwargs: { duration_ms: 120_000 } });
  await waitForState(request, id, ["STARTED"]);
  await page.goto(`/tasks/${id}`);
  await expect(page.getByTestId("task-state")).toHaveText("STARTED");
  await confirmAction(page, "Terminate");
  await expect(page.getByTestId("task-state")).toHaveText("REVOKED");
  const info = await taskInfo(request, id);
  expect(info?.state).toBe("REVOKED");
  expect(info?.succeeded).toBeNull();
  expect(info?.failed).toBeNull();
});

test("retrying a failed task: a new linked task appears and finishes", async ({ page, request }) => {
  const key = `e2e-${Date.now()}`;
  const id = await sendTask(request, "emails.send", { args: [], kwargs: { fail_once_key: key, duration_ms: 20, no_retry: true } });
  await waitForState(request, id, ["FAILURE"]);
  // the traceback names real source lines (Next's stack formatter once turned them all into "line 1")
  const failed = await taskInfo(request, id);
  const line = /demo\/tasks\.ts", line (\d+)/.exec(String(failed?.traceback))?.[1];
  expect(Number(line), String(failed?.traceback)).toBeGreaterThan(1);
  await page.goto(`/tasks/${id}`);
  await expect(page.getByTestId("task-state")).toHaveText("FAILURE");
  await confirmAction(page, "Retry");
  const link = page.getByRole("link", { name: /retried as/i }).first();
  await expect(link).toBeVisible();
  await link.click();
  await expect(page).not.toHaveURL(new RegExp(`/tasks/${id}$`));
  const newId = page.url().split("/tasks/")[1];
  expect(newId).toMatch(/^[0-9a-f-]{36}$/);
  await expect(page.getByTestId("task-state")).toHaveText("SUCCESS", { timeout: 20_000 });
  const info = await taskInfo(request, newId);
  expect(info?.name).toBe("emails.send");
  expect(info?.retry_of).toBe(id);
  const old = await taskInfo(request, id);
  expect(old?.retried_as).toContain(newId);
});

test("retry stays available when only the result backend has the arguments (repr truncated)", async ({ page, request }) => {
  const key = `e2e-long-${Date.now()}`;
  // saferepr cuts a 2000-character argument, so the browser cannot rebuild the args from the repr
  const id = await sendTask(request, "emails.send", { args: ["z".repeat(2000)], kwargs: { fail_once_key: key, duration_ms: 20, no_retry: true } });
  await waitForState(request, id, ["FAILURE"]);
  await page.goto(`/tasks/${id}`);
  await expect(page.getByTestId("task-state")).toHaveText("FAILURE");
  const retry = page.getByRole("button", { name: "Retry" });
  await expect(retry).toBeEnabled();
  await confirmAction(page, "Retry");
  await expect(page.getByRole("link", { name: /retried as/i }).first()).toBeVisible();
});
