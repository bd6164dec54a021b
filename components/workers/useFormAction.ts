"use client";

/** The form-dialog twin of useAction: open with a spec, submit runs it, a toast reports the answer. */
import { useState } from "react";
import type { ActionResult } from "../realtime/actions";
import { useToast } from "../ui/Toast";
import type { DialogField } from "./FieldsDialog";
import { answerBody } from "./control";

export interface FormSpec {
  title: string;
  note?: string;
  fields: DialogField[];
  run: (values: Record<string, string>) => Promise<ActionResult<Record<string, unknown>>>;
  successTitle: (values: Record<string, string>) => string;
  failureTitle: string;
}

export function useFormAction() {
  const toast = useToast();
  const [spec, setSpec] = useState<FormSpec | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (values: Record<string, string>) => {
    if (!spec) return;
    setBusy(true);
    const r = await spec.run(values);
    setBusy(false);
    setSpec(null);
    toast(r.ok ? { kind: "success", title: spec.successTitle(values), body: answerBody(r) } : { kind: "error", title: spec.failureTitle, body: r.message });
  };
  return {
    spec,
    busy,
    open: (s: FormSpec) => setSpec(s),
    close: () => {
      if (!busy) setSpec(null);
    },
    submit: (v: Record<string, string>) => void submit(v),
  };
}
