"use client";

/**
 * `j`/`k` move a selection through a list, `Enter` opens it. One list per page owns the keys
 * (the main table); the selection is an index so virtualised lists can scroll to it.
 */
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";
import { isTypingTarget } from "../shell/shortcuts";

export function useListNav({
  count,
  onOpen,
  onMove,
  enabled = true,
}: {
  count: number;
  onOpen: (index: number) => void;
  /** called after the selection moved, e.g. to scroll the row into view */
  onMove?: (index: number) => void;
  enabled?: boolean;
}): { selected: number; setSelected: Dispatch<SetStateAction<number>> } {
  const [selected, setSelected] = useState(-1);
  const latest = useRef({ count, onOpen, onMove, selected });
  latest.current = { count, onOpen, onMove, selected };

  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey) return;
      if (isTypingTarget(e.target) || document.querySelector("dialog[open]")) return;
      const { count: n, selected: cur } = latest.current;
      if (n === 0) return;
      let next = cur;
      if (e.key === "j") next = Math.min(n - 1, cur + 1);
      else if (e.key === "k") next = Math.max(0, cur < 0 ? 0 : cur - 1);
      else if (e.key === "Enter") {
        // Enter on a focused link or button keeps its own meaning.
        const t = e.target as HTMLElement | null;
        if (cur < 0 || (t && t !== document.body && t.closest("a,button"))) return;
        e.preventDefault();
        latest.current.onOpen(cur);
        return;
      } else if (e.key === "Escape" && cur >= 0) {
        setSelected(-1);
        return;
      } else return;
      e.preventDefault();
      setSelected(next);
      latest.current.onMove?.(next);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enabled]);

  // A shrinking list must not leave the selection past its end.
  useEffect(() => {
    if (selected >= count) setSelected(count - 1);
  }, [count, selected]);

  return { selected, setSelected };
}
