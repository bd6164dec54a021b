import type { ButtonHTMLAttributes } from "react";

type Variant = "default" | "danger" | "primary" | "ghost";

const VARIANTS: Record<Variant, string> = {
  default: "border-line bg-surface text-fg hover:border-line-strong hover:bg-surface-2",
  primary: "border-transparent bg-accent text-white dark:text-zinc-950 hover:opacity-90",
  danger: "border-st-failure/40 bg-surface text-st-failure-fg hover:bg-st-failure/10",
  ghost: "border-transparent bg-transparent text-muted hover:bg-surface-2 hover:text-fg",
};

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  /** shown as the tooltip when disabled, e.g. read-only mode */
  disabledReason?: string | null;
}

export function Button({ variant = "default", disabledReason, className = "", disabled, title, ...rest }: ButtonProps) {
  const isDisabled = disabled || !!disabledReason;
  return (
    <button
      type="button"
      {...rest}
      disabled={isDisabled}
      aria-disabled={isDisabled || undefined}
      title={isDisabled && disabledReason ? disabledReason : title}
      className={`inline-flex h-7 items-center gap-1.5 rounded-md border px-2.5 text-[12.5px] font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-45 ${VARIANTS[variant]} ${className}`}
    />
  );
}
