"use client";

import type { ReactNode } from "react";
import { RealtimeProvider } from "../realtime/RealtimeProvider";
import { ToastProvider } from "../ui/Toast";
import { AppShell } from "./AppShell";

export function Providers({ children }: { children: ReactNode }) {
  return (
    <RealtimeProvider>
      <ToastProvider>
        <AppShell>{children}</AppShell>
      </ToastProvider>
    </RealtimeProvider>
  );
}
