/** ClusterState seen through the narrow StateReader the realtime views use. */
import type { ClusterState } from "../../lib/state";
import type { StateReader } from "./views";

export function stateReader(state: ClusterState): StateReader {
  return {
    version: () => state.version,
    tasksVersion: () => state.tasksVersion,
    workersVersion: () => state.workersVersion,
    taskVersion: (id) => state.taskVersion(id),
    getTask: (id) => state.getTask(id) ?? null,
    queryTasks: (q) => state.queryTasks(q),
    workers: () => state.workers(),
    getWorker: (name) => state.getWorker(name) ?? null,
    overview: () => state.overview(),
    charts: (resolution, opts) => state.charts(resolution, opts.worker ? { worker: opts.worker } : undefined),
  };
}
