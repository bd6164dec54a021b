"use client";

/** A small form in a native <dialog>: a few labelled inputs, validated before Confirm enables. */
import { useState } from "react";
import { Button } from "../ui/Button";
import { useModal } from "../ui/useModal";

export interface DialogField {
  key: string;
  label: string;
  placeholder?: string;
  initial?: string;
  /** null when valid, else why not */
  validate: (v: string) => string | null;
}

export function FieldsDialog({
  open,
  title,
  note,
  fields,
  busy,
  onSubmit,
  onClose,
}: {
  open: boolean;
  title: string;
  note?: string;
  fields: DialogField[];
  busy: boolean;
  onSubmit: (values: Record<string, string>) => void;
  onClose: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const ref = useModal(open, () => setValues(Object.fromEntries(fields.map((f) => [f.key, f.initial ?? ""]))));
  const errors = fields.map((f) => f.validate((values[f.key] ?? "").trim()));
  const valid = errors.every((e) => e === null);
  return (
    <dialog ref={ref} onClose={onClose} onCancel={onClose} aria-label={title} className="m-auto w-[400px] max-w-[92vw] rounded-lg border border-line bg-surface p-0 text-fg shadow-2xl">
      {open ? (
        <form
          className="flex flex-col gap-3 p-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid && !busy) onSubmit(Object.fromEntries(fields.map((f) => [f.key, (values[f.key] ?? "").trim()])));
          }}
        >
          <h2 className="text-[14px] font-semibold">{title}</h2>
          {note ? <p className="text-[12.5px] text-muted">{note}</p> : null}
          <div className="flex gap-3">
            {fields.map((f, i) => (
              <label key={f.key} className="flex min-w-0 flex-1 flex-col gap-1 text-[12px] text-muted">
                {f.label}
                <input
                  autoFocus={i === 0}
                  name={f.key}
                  value={values[f.key] ?? ""}
                  placeholder={f.placeholder}
                  onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
                  aria-invalid={errors[i] !== null}
                  title={errors[i] ?? undefined}
                  className="h-8 rounded-md border border-line bg-page px-2 font-mono text-[13px] text-fg outline-none focus:border-accent aria-[invalid=true]:border-st-failure"
                />
              </label>
            ))}
          </div>
          {!valid ? <p className="text-[12px] text-st-failure-fg">{errors.find((e) => e !== null)}</p> : null}
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

/** Empty or a non-negative number. */
export const optionalSeconds = (v: string): string | null => (v === "" || (/^\d+(\.\d+)?$/.test(v) && Number.isFinite(Number(v))) ? null : "Seconds must be a number ≥ 0");
/** A whole number ≥ 0. */
export const wholeNumber = (v: string): string | null => (/^\d+$/.test(v) ? null : "Enter a whole number ≥ 0");
