import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { attachHistory } from "../lib/history/attach";
import { HistoryStore } from "../lib/history/store";
import { rng, taskEvents } from "../lib/history/test-fixture";
import { ClusterState } from "../lib/state";
import { stateReader } from "./realtime/state-reader";
import { parseSubscription } from "./realtime/subscription";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it("the socket accepts history ranges and answers them from SQLite after a restart", async () => {
  expect(parseSubscription({ charts: { resolution: "7d" } })).toMatchObject({ ok: true });
  expect(parseSubscription({ charts: { resolution: "2d" } })).toMatchObject({ ok: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petal-charts-"));
  dirs.push(dir);
  const file = path.join(dir, "petal.db");
  const s1 = new ClusterState();
  const h1 = await HistoryStore.open({ file, thread: false, retentionSec: null });
  attachHistory(s1, h1, { maxTasks: 1000 });
  const rand = rng(2);
  for (let i = 0; i < 40; i++) s1.ingest(taskEvents(i, Date.now() / 1000, rand));
  await h1.close();

  const s2 = new ClusterState();
  const h2 = await HistoryStore.open({ file, thread: false, retentionSec: null });
  attachHistory(s2, h2, { maxTasks: 1000 });
  const reader = stateReader(s2);
  const day = reader.charts("24h", {});
  expect(day).toMatchObject({ resolution: "24h", step: 600 });
  expect(day.throughput.reduce((a, p) => a + p.received, 0)).toBe(40);
  // The live resolutions are unchanged (and empty after the restart).
  expect(reader.charts("1s", {}).resolution).toBe("1s");
  await h2.close();
});
