/**
 * One colour per meaning, defined once. Badges, chart series, the timeline and status dots all
 * read from here; the actual colours live as CSS variables in app/globals.css (both themes).
 * Every state also has a glyph and its text so colour is never the only cue.
 */
import type { TaskState } from "@/lib/protocol/types";

export type Tone = "success" | "failure" | "started" | "pending" | "retry" | "revoked" | "rejected";

export interface StateStyle {
  tone: Tone;
  /** glyph shown before the text, aria-hidden */
  glyph: string;
  /** CSS colour for SVG fills and strokes (charts, timeline, dots) */
  color: string;
  /** Tailwind classes for a tinted badge with AA-contrast text */
  badge: string;
  /** Tailwind class for solid dots */
  dot: string;
  /** REVOKED reads struck through */
  struck: boolean;
}

// Full class strings (not built from parts) so Tailwind's scanner can see them.
const TONES: Record<Tone, Omit<StateStyle, "tone" | "glyph" | "struck">> = {
  success: {
    color: "var(--st-success)",
    badge: "bg-st-success/12 text-st-success-fg ring-st-success/25",
    dot: "bg-st-success",
  },
  failure: {
    color: "var(--st-failure)",
    badge: "bg-st-failure/12 text-st-failure-fg ring-st-failure/30",
    dot: "bg-st-failure",
  },
  started: {
    color: "var(--st-started)",
    badge: "bg-st-started/12 text-st-started-fg ring-st-started/25",
    dot: "bg-st-started",
  },
  pending: {
    color: "var(--st-pending)",
    badge: "bg-st-pending/12 text-st-pending-fg ring-st-pending/25",
    dot: "bg-st-pending",
  },
  retry: {
    color: "var(--st-retry)",
    badge: "bg-st-retry/12 text-st-retry-fg ring-st-retry/30",
    dot: "bg-st-retry",
  },
  revoked: {
    color: "var(--st-revoked)",
    badge: "bg-st-revoked/15 text-st-revoked-fg ring-st-revoked/30",
    dot: "bg-st-revoked",
  },
  rejected: {
    color: "var(--st-rejected)",
    badge: "bg-st-rejected/12 text-st-rejected-fg ring-st-rejected/25",
    dot: "bg-st-rejected",
  },
};

const STATE_TONE: Record<TaskState, { tone: Tone; glyph: string }> = {
  PENDING: { tone: "pending", glyph: "○" },
  RECEIVED: { tone: "pending", glyph: "◌" },
  STARTED: { tone: "started", glyph: "▶" },
  SUCCESS: { tone: "success", glyph: "✓" },
  FAILURE: { tone: "failure", glyph: "✕" },
  RETRY: { tone: "retry", glyph: "↻" },
  REVOKED: { tone: "revoked", glyph: "⊘" },
  REJECTED: { tone: "rejected", glyph: "⊗" },
};

const FALLBACK = STATE_TONE.PENDING;

/** Style of a task state; unknown strings (e.g. Celery's ABORTED) fall back to the neutral tone. */
export function stateStyle(state: string): StateStyle {
  const s = STATE_TONE[state as TaskState] ?? FALLBACK;
  return { tone: s.tone, glyph: s.glyph, struck: state === "REVOKED", ...TONES[s.tone] };
}

export function toneStyle(tone: Tone): StateStyle {
  return { tone, glyph: "", struck: tone === "revoked", ...TONES[tone] };
}

/** Series colours for charts, by the counter they show. */
export const SERIES_COLOR = {
  received: "var(--st-pending)",
  succeeded: "var(--st-success)",
  failed: "var(--st-failure)",
  retried: "var(--st-retry)",
  revoked: "var(--st-revoked)",
  started: "var(--st-started)",
} as const;

export const WORKER_DOT = {
  online: { color: "var(--st-online)", dot: "bg-st-online", label: "online" },
  offline: { color: "var(--st-offline)", dot: "bg-st-offline", label: "offline" },
} as const;
