"use client";

import { useEffect, useRef } from "react";

/**
 * Soft one-time highlight when `signature` changes after mount: the row says "I changed"
 * without re-rendering or shifting. Uses the Web Animations API, so no state and no classes.
 */
export function useFlashOnChange<T extends HTMLElement>(signature: string) {
  const ref = useRef<T>(null);
  const prev = useRef(signature);
  useEffect(() => {
    if (prev.current === signature) return;
    prev.current = signature;
    const el = ref.current;
    if (!el || typeof el.animate !== "function") return;
    if (window.matchMedia?.("(prefers-reduced-motion: reduce)").matches) return;
    el.animate([{ backgroundColor: "var(--flash)" }, { backgroundColor: "transparent" }], {
      duration: 900,
      easing: "ease-out",
    });
  }, [signature]);
  return ref;
}
