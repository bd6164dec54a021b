"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { useRealtime } from "../realtime/hooks";
import { Age } from "../ui/Time";
import { Kbd } from "../ui/Empty";
import { focusPageSearch, requestSearchFocus } from "./focus";
import { ShortcutMachine, isTypingTarget } from "./shortcuts";
import { Sidebar } from "./Sidebar";
import { TopBar } from "./TopBar";
import { useModal } from "../ui/useModal";

function DisconnectedBanner() {
  const stale = useRealtime((s) => !s.socketConnected && s.everConnected);
  const last = useRealtime((s) => s.lastUpdateAt);
  if (!stale) return null;
  return (
    <div
      role="alert"
      data-testid="disconnected-banner"
      className="flex items-center gap-2 border-b border-st-retry/40 bg-st-retry/10 px-4 py-1.5 text-[12.5px] text-st-retry-fg"
    >
      <span aria-hidden>⚠</span>
      <span>
        Connection to the Petal server lost. Showing the last data received{" "}
        {last ? <Age t={last / 1000} intervalMs={1000} /> : "earlier"}; reconnecting…
      </span>
    </div>
  );
}

/**
 * The socket is fine but the server lost its broker (Redis restarting, network): say so calmly
 * and keep the last data on screen; it clears itself when the transport reconnects.
 */
function BrokerDownBanner() {
  const status = useRealtime((s) => (s.socketConnected ? s.data.broker?.status : undefined));
  if (!status || status === "connected") return null;
  return (
    <div
      role="status"
      data-testid="broker-banner"
      data-status={status}
      className="flex items-center gap-2 border-b border-st-retry/40 bg-st-retry/10 px-4 py-1.5 text-[12.5px] text-st-retry-fg"
    >
      <span aria-hidden className="size-1.5 rounded-full bg-st-retry motion-safe:animate-pulse" />
      <span>
        <strong className="font-semibold">Broker disconnected.</strong> Petal keeps the last data received and
        {status === "reconnecting" ? " is reconnecting…" : " will pick up again once the broker is back."}
      </span>
    </div>
  );
}

const HELP: [string, string][] = [
  ["g d", "Dashboard"],
  ["g t", "Tasks"],
  ["g w", "Workers"],
  ["g b", "Broker"],
  ["g c", "Charts"],
  ["/", "Focus search"],
  ["j / k", "Next / previous row"],
  ["Enter", "Open the selected row"],
  ["Esc", "Close dialogs, leave search"],
];

function HelpDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const ref = useModal(open);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-label="Keyboard shortcuts"
      className="m-auto w-[320px] rounded-lg border border-line bg-surface p-4 text-fg shadow-2xl"
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <h2 className="mb-2 text-[14px] font-semibold">Keyboard shortcuts</h2>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-[12.5px]">
        {HELP.map(([k, v]) => (
          <div key={k} className="contents">
            <dt>
              <Kbd>{k}</Kbd>
            </dt>
            <dd className="text-muted">{v}</dd>
          </div>
        ))}
      </dl>
    </dialog>
  );
}

export function AppShell({ children }: { children: ReactNode }) {
  const router = useRouter();
  const [help, setHelp] = useState(false);
  const stale = useRealtime((s) => !s.socketConnected && s.everConnected);

  useEffect(() => {
    const m = new ShortcutMachine();
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey) return;
      if (isTypingTarget(e.target)) {
        if (e.key === "Escape") (e.target as HTMLElement).blur();
        return;
      }
      if (document.querySelector("dialog[open]")) return;
      const a = m.press(e.key, performance.now());
      if (!a) return;
      e.preventDefault();
      if (a.type === "go") router.push(a.href);
      else if (a.type === "help") setHelp(true);
      else if (a.type === "search" && !focusPageSearch()) {
        requestSearchFocus();
        router.push("/tasks");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [router]);

  return (
    <div className="flex h-dvh overflow-hidden">
      <Sidebar onHelp={() => setHelp(true)} />
      <div className={`flex min-w-0 flex-1 flex-col ${stale ? "stale" : ""}`}>
        <TopBar />
        <DisconnectedBanner />
        <BrokerDownBanner />
        <main id="main" className="min-h-0 flex-1 overflow-auto px-5 py-4">
          {children}
        </main>
      </div>
      <HelpDialog open={help} onClose={() => setHelp(false)} />
    </div>
  );
}
