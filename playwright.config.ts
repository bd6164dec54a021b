import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./e2e/chromium";

/**
 * End-to-end tests run against the production build (`npm start` builds it when missing) on a
 * private port, with the embedded demo kept quiet so the specs own the interesting tasks.
 */
const port = Number(process.env.PETAL_E2E_PORT ?? 5580);

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    colorScheme: "dark",
    viewport: { width: 1440, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    // --no-persist: the e2e run must not read or write a developer's ./.petal history.
    command: `node scripts/start.mjs --port ${port} --address 127.0.0.1 --no-persist`,
    url: `http://127.0.0.1:${port}/healthcheck`,
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PETAL_DEMO_RATE: "2",
      PETAL_DEMO_CHAOS: "0",
      NEXT_TELEMETRY_DISABLED: "1",
    },
  },
});
