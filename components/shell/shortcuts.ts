/**
 * Global keyboard shortcuts as a tiny state machine (pure, so it is tested without a DOM):
 * `g` then a letter goes to a page, `/` focuses search, `?` opens the help.
 */

export const NAV_ITEMS = [
  { href: "/", label: "Dashboard", key: "d" },
  { href: "/tasks", label: "Tasks", key: "t" },
  { href: "/workers", label: "Workers", key: "w" },
  { href: "/broker", label: "Broker", key: "b" },
  { href: "/charts", label: "Charts", key: "c" },
] as const;

/** How long after `g` the second key still counts, ms (default: 1200). */
export const CHORD_TIMEOUT_MS = 1200;

export type ShortcutAction = { type: "go"; href: string } | { type: "search" } | { type: "help" } | null;

export class ShortcutMachine {
  private gAt = -Infinity;

  /** Feed one keydown (already filtered: no modifiers, not typing in a field). */
  press(key: string, nowMs: number): ShortcutAction {
    if (nowMs - this.gAt <= CHORD_TIMEOUT_MS) {
      this.gAt = -Infinity;
      const item = NAV_ITEMS.find((i) => i.key === key);
      if (item) return { type: "go", href: item.href };
      return null;
    }
    if (key === "g") {
      this.gAt = nowMs;
      return null;
    }
    if (key === "/") return { type: "search" };
    if (key === "?") return { type: "help" };
    return null;
  }
}

/** True when a keydown belongs to a text field (shortcuts must not steal typing). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== "string") return false;
  const el = target as HTMLElement;
  const tag = el.tagName;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable === true;
}

/** Active nav item for a path: the longest matching prefix ("/tasks/abc" → Tasks). */
export function activeHref(pathname: string): string {
  let best = "/";
  for (const i of NAV_ITEMS) {
    if (i.href === "/") continue;
    if (pathname === i.href || pathname.startsWith(i.href + "/")) best = i.href;
  }
  return best;
}
