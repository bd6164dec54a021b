"use client";
import { useEffect, useRef } from "react";

/**
 * Drives a native <dialog> from a boolean: showModal() when it turns true (calling `onOpen`
 * first, e.g. to reset a form), close() when it turns false. Only the transition calls
 * `onOpen`, so callers may pass a fresh closure on every render.
 */
export function useModal(open: boolean, onOpen?: () => void) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      onOpen?.();
      d.showModal();
    }
    if (!open && d.open) d.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the open/close transition matters
  }, [open]);
  return ref;
}
