/** Every API route, in one table (order does not matter: a path matches at most one pattern per method). */
import { brokerRoutes } from "./broker";
import { sendRoutes } from "./send";
import { taskControlRoutes } from "./task-control";
import { taskReadRoutes } from "./tasks";
import type { Route } from "./types";
import { workerControlRoutes } from "./worker-control";
import { workerRoutes } from "./workers";

export const apiRoutes: Route[] = [
  ...workerRoutes,
  ...taskReadRoutes,
  ...sendRoutes,
  ...taskControlRoutes,
  ...workerControlRoutes,
  ...brokerRoutes,
];
