/**
 * Read-only task routes on Flower's paths: the event-state list and detail (repr strings, from
 * ClusterState) and the backend result (native JSON, from the result backend).
 */
import type { TaskQuery } from "../../lib/protocol/api";
import { TASK_STATES, type TaskState } from "../../lib/protocol/types";
import { SORT_FIELDS } from "../../lib/state/query";
import { getTaskWithHistory, queryTasksWithHistoryAsync } from "../../lib/history/attach";
import { badRequest, HttpError, notFound } from "./errors";
import { flowerTask, resultBody } from "./format";
import { filterValues, parseFloatArg, parseIntArg, parseLocalDate } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";


const STATE_SET: ReadonlySet<string> = new Set(TASK_STATES);

/** Turn /api/tasks' query string into a TaskQuery; 400 (not Flower's 500) on bad values. */
export function parseTaskQuery(query: URLSearchParams): TaskQuery {
  const q: TaskQuery = {};
  const limit = query.get("limit");
  if (limit !== null && limit !== "") {
    q.limit = parseIntArg(limit);
    if (q.limit < 0) throw badRequest(`Invalid argument '${limit}' for 'limit': must be >= 0`);
  }
  q.offset = parseIntArg(query.get("offset"), 0);
  if (q.offset < 0) throw badRequest(`Invalid argument '${query.get("offset")}' for 'offset': must be >= 0`);
  const sortBy = query.get("sort_by");
  if (sortBy) {
    if (!(SORT_FIELDS as readonly string[]).includes(sortBy.replace(/^-/, ""))) {
      throw badRequest(`Invalid argument '${sortBy}' for 'sort_by': use one of ${SORT_FIELDS.join(", ")} (prefix '-' for descending)`);
    }
    q.sort_by = sortBy;
  }
  const states = filterValues(query, "state");
  if (states) {
    const upper = states.map((s) => s.toUpperCase());
    for (const s of upper) {
      if (!STATE_SET.has(s)) throw badRequest(`Invalid argument '${s}' for 'state': use one of ${TASK_STATES.join(", ")} or All`);
    }
    q.state = upper as TaskState[];
  }
  q.taskname = filterValues(query, "taskname");
  q.workername = filterValues(query, "workername");
  q.received_start = parseLocalDate(query.get("received_start"), "received_start");
  q.received_end = parseLocalDate(query.get("received_end"), "received_end");
  const search = query.get("search");
  q.search = search === null || search.trim() === "" ? null : search;
  return q;
}

async function listTasks({ query, ctx }: HandlerInput): Promise<HandlerResult> {
  const page = await queryTasksWithHistoryAsync(ctx.state, parseTaskQuery(query));
  const body: Record<string, unknown> = {};
  for (const t of page.rows) body[t.uuid] = flowerTask(t, false);
  return { status: 200, body };
}

async function taskInfo({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const task = getTaskWithHistory(ctx.state, params.id!);
  if (!task) throw notFound(`Unknown task '${params.id}'`);
  return { status: 200, body: flowerTask(task, true) };
}

async function taskTypes({ ctx }: HandlerInput): Promise<HandlerResult> {
  return { status: 200, body: { "task-types": [...ctx.state.taskTypes()].sort() } };
}

async function taskResult({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  const rawTimeout = query.get("timeout");
  const timeout = rawTimeout === null || rawTimeout === "" ? null : parseFloatArg(rawTimeout);
  if (timeout !== null && timeout < 0) throw badRequest(`Invalid argument '${rawTimeout}' for 'timeout': must be >= 0`);
  if (timeout === null || timeout === 0) return { status: 200, body: resultBody(id, await ctx.results.get(id)) };
  // Unlike Flower, the state is read after the wait, so it matches the result it comes with.
  const meta = await ctx.results.wait(id, Math.round(timeout * 1000));
  if (!meta) throw new HttpError(504, "timeout", `Timed out after ${timeout} s waiting for the result of '${id}'`);
  return { status: 200, body: resultBody(id, meta) };
}

export const taskReadRoutes: Route[] = [
  { method: "GET", path: "/api/tasks", handler: listTasks },
  { method: "GET", path: "/api/task/info/:id", handler: taskInfo },
  { method: "GET", path: "/api/task/types", handler: taskTypes },
  { method: "GET", path: "/api/task/result/:id", handler: taskResult },
];
