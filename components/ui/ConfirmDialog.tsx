"use client";

/**
 * Small confirmation for destructive actions. A native <dialog> gives focus trapping, Esc to
 * close and a backdrop for free.
 */
import type { ReactNode } from "react";
import { Button } from "./Button";
import { useModal } from "./useModal";

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel = "Confirm",
  danger = true,
  busy = false,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  /** accessible name of the confirming button (default: "Confirm") */
  confirmLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useModal(open);

  return (
    <dialog
      ref={ref}
      onClose={onClose}
      onCancel={onClose}
      aria-labelledby="confirm-title"
      className="m-auto w-[420px] max-w-[92vw] rounded-lg border border-line bg-surface p-0 text-fg shadow-2xl"
    >
      {open ? (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            onConfirm();
          }}
          className="flex flex-col gap-3 p-4"
        >
          <h2 id="confirm-title" className="text-[14px] font-semibold">
            {title}
          </h2>
          <div className="text-[13px] text-muted">{children}</div>
          <div className="mt-1 flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant={danger ? "danger" : "primary"} disabled={busy} autoFocus>
              {confirmLabel}
            </Button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
