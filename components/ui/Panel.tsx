import type { ReactNode } from "react";

/** A bordered section with a quiet header; the unit every page is built from. */
export function Panel({
  title,
  actions,
  children,
  className = "",
  bodyClassName = "",
  testId,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  bodyClassName?: string;
  testId?: string;
}) {
  return (
    <section data-testid={testId} className={`min-w-0 rounded-lg border border-line bg-surface ${className}`}>
      {title || actions ? (
        <header className="flex h-9 items-center justify-between gap-2 border-b border-line px-3">
          <h2 className="truncate text-[12px] font-semibold uppercase tracking-wider text-muted">{title}</h2>
          {actions ? <div className="flex items-center gap-2">{actions}</div> : null}
        </header>
      ) : null}
      <div className={bodyClassName}>{children}</div>
    </section>
  );
}

/** One label/value metric, for stat strips. */
export function Stat({ label, value, hint, tone }: { label: string; value: ReactNode; hint?: string; tone?: string }) {
  return (
    <div className="min-w-0" title={hint}>
      <div className="truncate text-[11px] uppercase tracking-wider text-muted">{label}</div>
      <div className={`num truncate text-[18px] font-semibold leading-7 ${tone ?? ""}`}>{value}</div>
    </div>
  );
}

export function PageHeader({ title, sub, actions }: { title: ReactNode; sub?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h1 className="truncate text-[17px] font-semibold tracking-tight">{title}</h1>
        {sub ? <div className="mt-0.5 text-[12px] text-muted">{sub}</div> : null}
      </div>
      {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
    </div>
  );
}
