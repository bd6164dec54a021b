"use client";

/**
 * Outcome of an action, bottom right, gone after a few seconds (errors stay longer). role=status
 * so screen readers announce it without stealing focus.
 */
import Link from "next/link";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export interface ToastInput {
  kind: "success" | "error" | "info";
  title: string;
  body?: string;
  link?: { href: string; label: string };
}

interface ToastItem extends ToastInput {
  id: number;
}

const ToastContext = createContext<(t: ToastInput) => void>(() => {});

export function useToast(): (t: ToastInput) => void {
  return useContext(ToastContext);
}

/** How long a toast stays, ms (default: 5000 for success/info, 9000 for errors). */
const TTL = { success: 5000, info: 5000, error: 9000 } as const;

let seq = 0;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const dismiss = useCallback((id: number) => setItems((xs) => xs.filter((x) => x.id !== id)), []);
  const push = useCallback(
    (t: ToastInput) => {
      const id = ++seq;
      setItems((xs) => [...xs.slice(-3), { ...t, id }]);
      setTimeout(() => dismiss(id), TTL[t.kind]);
    },
    [dismiss],
  );
  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="pointer-events-none fixed bottom-4 right-4 z-50 flex w-[360px] max-w-[92vw] flex-col gap-2">
        {items.map((t) => (
          <div
            key={t.id}
            role="status"
            aria-live="polite"
            data-testid="toast"
            data-kind={t.kind}
            className={`pointer-events-auto rounded-lg border bg-surface px-3 py-2.5 shadow-lg ${
              t.kind === "error" ? "border-st-failure/50" : t.kind === "success" ? "border-st-success/40" : "border-line"
            }`}
          >
            <div className="flex items-start gap-2">
              <span
                aria-hidden
                className={`mt-0.5 ${t.kind === "error" ? "text-st-failure-fg" : t.kind === "success" ? "text-st-success-fg" : "text-muted"}`}
              >
                {t.kind === "error" ? "✕" : t.kind === "success" ? "✓" : "•"}
              </span>
              <div className="min-w-0 flex-1">
                <div className="font-medium">{t.title}</div>
                {t.body ? <div className="mt-0.5 break-words text-[12px] text-muted">{t.body}</div> : null}
                {t.link ? (
                  <Link href={t.link.href} className="mt-1 inline-block text-[12px] text-accent-fg underline-offset-2 hover:underline">
                    {t.link.label}
                  </Link>
                ) : null}
              </div>
              <button type="button" aria-label="Dismiss" onClick={() => dismiss(t.id)} className="text-faint hover:text-fg">
                ×
              </button>
            </div>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
