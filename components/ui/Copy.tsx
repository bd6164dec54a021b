"use client";

import { useState, type MouseEvent, type ReactNode } from "react";

export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path (e.g. permission denied in an iframe)
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

function useCopied(): [boolean, (text: string) => void] {
  const [copied, setCopied] = useState(false);
  const copy = (text: string) => {
    void copyText(text).then((ok) => {
      if (!ok) return;
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    });
  };
  return [copied, copy];
}

/** A uuid shown short (or full) in mono; click copies the full value. */
export function CopyId({ value, full = false, className = "" }: { value: string; full?: boolean; className?: string }) {
  const [copied, copy] = useCopied();
  const onClick = (e: MouseEvent) => {
    // Rows open on click; copying must not navigate.
    e.stopPropagation();
    e.preventDefault();
    copy(value);
  };
  return (
    <button
      type="button"
      onClick={onClick}
      title={copied ? "Copied" : `${value}\nClick to copy`}
      aria-label={`Copy id ${value}`}
      data-testid="copy-id"
      className={`rounded px-0.5 -mx-0.5 font-mono text-[12px] hover:bg-surface-2 hover:text-fg ${copied ? "text-st-success-fg" : ""} ${className}`}
    >
      {full ? value : value.slice(0, 8)}
      {copied ? <span className="ml-1 font-sans text-[11px]">copied</span> : null}
    </button>
  );
}

/** Small "Copy" text button for blocks (traceback, args). */
export function CopyButton({ text, label = "Copy", children }: { text: string; label?: string; children?: ReactNode }) {
  const [copied, copy] = useCopied();
  return (
    <button
      type="button"
      onClick={() => copy(text)}
      className="rounded border border-line px-1.5 py-0.5 text-[11px] text-muted hover:border-line-strong hover:text-fg"
    >
      {copied ? "Copied" : (children ?? label)}
    </button>
  );
}
