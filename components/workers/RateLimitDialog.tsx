"use client";

import { useState } from "react";
import { setRateLimit } from "../realtime/actions";
import { Button } from "../ui/Button";
import { useToast } from "../ui/Toast";
import { answerBody } from "./control";
import { useModal } from "../ui/useModal";

/** Celery's rate syntax: a number, optionally per s/m/h ("10/m"); empty or 0 removes the limit. */
export const RATE_RE = /^(\d+(\.\d+)?)(\/[smh])?$/;

/** Set a task name's rate limit on one worker. */
export function RateLimitDialog({ worker, taskName, onClose }: { worker: string; taskName: string | null; onClose: () => void }) {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const ref = useModal(!!taskName, () => setValue(""));
  const valid = value.trim() === "" || RATE_RE.test(value.trim());
  const submit = async () => {
    if (!taskName || !valid) return;
    setBusy(true);
    const rate = value.trim() || "0";
    const r = await setRateLimit(taskName, worker, rate);
    setBusy(false);
    onClose();
    toast(
      r.ok
        ? { kind: "success", title: `Rate limit of ${taskName} on ${worker}: ${rate === "0" ? "none" : rate}`, body: answerBody(r) }
        : { kind: "error", title: `Could not set the rate limit of ${taskName}`, body: r.message },
    );
  };
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="rl-title" className="m-auto w-[400px] max-w-[92vw] rounded-lg border border-line bg-surface p-0 text-fg shadow-2xl">
      {taskName ? (
        <form
          className="flex flex-col gap-3 p-4"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <h2 id="rl-title" className="text-[14px] font-semibold">
            Rate limit {taskName} on {worker}
          </h2>
          <label className="flex flex-col gap-1 text-[12px] text-muted">
            Tasks per second, minute or hour, e.g. 10/m (empty removes the limit)
            <input
              autoFocus
              value={value}
              onChange={(e) => setValue(e.target.value)}
              aria-invalid={!valid}
              className="h-8 rounded-md border border-line bg-page px-2 font-mono text-[13px] text-fg outline-none focus:border-accent aria-[invalid=true]:border-st-failure"
            />
          </label>
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={!valid || busy}>
              Confirm
            </Button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
