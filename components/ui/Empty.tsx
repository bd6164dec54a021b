import type { ReactNode } from "react";

/** An empty or error state that says what is going on and what to do next. */
export function Empty({ title, children, tone = "muted" }: { title: string; children?: ReactNode; tone?: "muted" | "error" }) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 px-6 py-10 text-center" data-testid="empty-state">
      <div className={`text-[14px] font-medium ${tone === "error" ? "text-st-failure-fg" : "text-fg"}`}>{title}</div>
      {children ? <div className="max-w-xl text-[12.5px] text-muted">{children}</div> : null}
    </div>
  );
}

/** A copyable shell command line. */
export function Cmd({ children }: { children: string }) {
  return (
    <code className="block select-all rounded-md border border-line bg-surface-2 px-2.5 py-1.5 text-left font-mono text-[12px] text-fg">
      <span aria-hidden className="select-none text-faint">$ </span>
      {children}
    </code>
  );
}

export function Kbd({ children }: { children: ReactNode }) {
  return (
    <kbd className="rounded border border-line bg-surface-2 px-1 font-mono text-[10.5px] leading-4 text-muted">{children}</kbd>
  );
}
