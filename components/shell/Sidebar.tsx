"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { useConfig } from "../realtime/hooks";
import { Kbd } from "../ui/Empty";
import { IconBroker, IconCharts, IconDashboard, IconPetal, IconTasks, IconWorkers } from "../ui/icons";
import { NAV_ITEMS, activeHref } from "./shortcuts";

const ICONS: Record<string, ReactNode> = {
  "/": <IconDashboard />,
  "/tasks": <IconTasks />,
  "/workers": <IconWorkers />,
  "/broker": <IconBroker />,
  "/charts": <IconCharts />,
};

export function Sidebar({ onHelp }: { onHelp: () => void }) {
  const pathname = usePathname() ?? "/";
  const active = activeHref(pathname);
  const config = useConfig();
  return (
    <nav aria-label="Main" className="flex w-[176px] shrink-0 flex-col border-r border-line bg-surface">
      <Link href="/" className="flex h-12 items-center gap-2 px-4 text-[14px] font-semibold tracking-tight">
        <IconPetal />
        Petal
      </Link>
      <ul className="flex flex-col gap-px px-2 pt-1">
        {NAV_ITEMS.map((item) => {
          const on = item.href === active;
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={on ? "page" : undefined}
                title={`${item.label} (g ${item.key})`}
                className={`group flex h-8 items-center gap-2.5 rounded-md px-2 text-[13px] ${
                  on ? "bg-surface-2 font-medium text-fg" : "text-muted hover:bg-surface-2 hover:text-fg"
                }`}
              >
                <span className={on ? "text-accent" : ""}>{ICONS[item.href]}</span>
                <span className="flex-1">{item.label}</span>
                <span className="hidden text-[10.5px] text-faint group-hover:inline">g {item.key}</span>
              </Link>
            </li>
          );
        })}
      </ul>
      <div className="mt-auto flex flex-col gap-2 px-4 pb-3 text-[11px] text-faint">
        {config?.readOnly ? (
          <span className="w-fit rounded border border-st-retry/40 px-1.5 py-px text-st-retry-fg" title="Control actions are disabled">
            read-only
          </span>
        ) : null}
        <button type="button" onClick={onHelp} className="flex w-fit items-center gap-1.5 hover:text-fg">
          <Kbd>?</Kbd> shortcuts
        </button>
        <span className="num">{config ? `Petal ${config.version}` : "Petal"}</span>
      </div>
    </nav>
  );
}
