"use client";

import { useEffect, useState } from "react";
import { IconMonitor, IconMoon, IconSun } from "../ui/icons";
import { applyTheme, readTheme, saveTheme, type ThemeChoice } from "./theme";

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };

/** One button cycling system → light → dark; its name says the current choice. */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>("system");
  useEffect(() => setChoice(readTheme()), []);
  useEffect(() => {
    if (choice !== "system") return;
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const on = () => applyTheme("system");
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, [choice]);

  const label = `Theme: ${choice}`;
  return (
    <button
      type="button"
      aria-label={label}
      title={`${label} (click for ${NEXT[choice]})`}
      data-testid="theme-toggle"
      data-theme-choice={choice}
      onClick={() => {
        const next = NEXT[choice];
        setChoice(next);
        saveTheme(next);
      }}
      className="inline-flex size-7 items-center justify-center rounded-md text-muted hover:bg-surface-2 hover:text-fg"
    >
      {choice === "system" ? <IconMonitor /> : choice === "light" ? <IconSun /> : <IconMoon />}
    </button>
  );
}
