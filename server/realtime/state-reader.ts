/** ClusterState seen through the narrow StateReader the realtime views use. */
import type { ClusterState } from "../../lib/state";
import { historyOf, queryTasksWithHistory } from "../../lib/history/attach";
import { chartsWithHistory } from "../../lib/history/charts";
import type { StateReader } from "./views";
import type { WorkerInspector } from "./worker-info";

export function stateReader(state: ClusterState, inspector?: WorkerInspector): StateReader {
  return {
    version: () => state.version,
    tasksVersion: () => state.tasksVersion,
    workersVersion: () => state.workersVersion + (inspector?.version ?? 0),
    taskVersion: (id) => state.taskVersion(id),
    getTask: (id) => state.getTask(id) ?? null,
    queryTasks: (q) => queryTasksWithHistory(state, q),
    workers: () => state.workers(),
    getWorker: (name) => {
      const w = state.getWorker(name);
      return w ? (inspector ? inspector.enrich(w) : w) : null;
    },
    overview: () => state.overview(),
    charts: (resolution, opts) => chartsWithHistory(state, historyOf(state), resolution, opts),
  };
}
