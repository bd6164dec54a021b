"use client";

/**
 * The confirm → request → toast cycle every control button shares. One pending action per
 * owner; the dialog names the target, the toast reports what the server said.
 */
import { useState } from "react";
import type { ActionResult } from "../realtime/actions";
import { useConfig } from "../realtime/hooks";
import { useToast, type ToastInput } from "./Toast";

export interface ActionSpec<T> {
  id: string;
  title: string;
  body: string;
  confirmLabel?: string;
  run: () => Promise<ActionResult<T>>;
  success: (r: { message: string; value: T }) => ToastInput;
  failureTitle: string;
  onDone?: (value: T) => void;
}

export const READ_ONLY_REASON = "Read-only mode: control actions are disabled on this server";

export function useAction() {
  const toast = useToast();
  const config = useConfig();
  const [pending, setPending] = useState<ActionSpec<unknown> | null>(null);
  const [busy, setBusy] = useState(false);

  const ask = <T,>(spec: ActionSpec<T>) => setPending(spec as ActionSpec<unknown>);
  const close = () => {
    if (!busy) setPending(null);
  };
  const confirm = async () => {
    const spec = pending;
    if (!spec) return;
    setBusy(true);
    const r = await spec.run();
    setBusy(false);
    setPending(null);
    if (r.ok) {
      toast(spec.success(r));
      spec.onDone?.(r.value);
    } else {
      toast({ kind: "error", title: spec.failureTitle, body: r.message });
    }
  };

  return {
    pending,
    busy,
    ask,
    close,
    confirm,
    /** tooltip explaining why buttons are disabled, or null */
    disabledReason: config?.readOnly ? READ_ONLY_REASON : null,
  };
}
