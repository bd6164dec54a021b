import type { TaskRecord } from "@/lib/protocol/api";
import { parseArgsRepr, parseKwargsRepr } from "@/lib/protocol/pyliteral";

/**
 * Why Retry cannot re-send this task, or null when it can. The server re-sends the args and
 * kwargs it reads back from the task's reprs (the same parser), so a repr that does not parse
 * (truncated, an object's repr, missing) means the retry would be refused: say so up front.
 */
export function retryBlockedReason(task: Pick<TaskRecord, "name" | "args" | "kwargs">): string | null {
  if (!task.name) return "Cannot retry: the task name is unknown";
  if (!task.args && !task.kwargs) return "Cannot retry: no arguments were recorded for this task";
  const args = parseArgsRepr(task.args);
  if (!args.ok) return `Cannot retry: the args cannot be recovered (${args.reason})`;
  const kwargs = parseKwargsRepr(task.kwargs);
  if (!kwargs.ok) return `Cannot retry: the kwargs cannot be recovered (${kwargs.reason})`;
  return null;
}
