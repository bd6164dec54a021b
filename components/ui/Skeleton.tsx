/** Loading placeholders: rows that look like the rows to come, not a spinner. */
export function SkeletonLine({ w = "100%", className = "" }: { w?: string | number; className?: string }) {
  return <span aria-hidden className={`skeleton inline-block h-3 align-middle ${className}`} style={{ width: w }} />;
}

export function SkeletonRows({ rows = 6, cols = 5 }: { rows?: number; cols?: number }) {
  const widths = ["60%", "80%", "40%", "70%", "50%", "30%", "65%"];
  return (
    <div aria-busy="true" aria-label="Loading" className="divide-y divide-line">
      {Array.from({ length: rows }, (_, r) => (
        <div key={r} className="flex h-8 items-center gap-4 px-3">
          {Array.from({ length: cols }, (_, c) => (
            <span key={c} className="flex-1">
              <SkeletonLine w={widths[(r + c) % widths.length]} />
            </span>
          ))}
        </div>
      ))}
    </div>
  );
}

export function SkeletonBlock({ h = 160 }: { h?: number }) {
  return <div aria-hidden className="skeleton w-full" style={{ height: h }} />;
}
