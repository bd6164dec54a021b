/** A handful of 16px line icons, drawn here so the UI needs no icon library. */
import type { SVGProps } from "react";

function Svg(props: SVGProps<SVGSVGElement>) {
  return (
    <svg
      width={16}
      height={16}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
      {...props}
    />
  );
}

export const IconDashboard = () => (
  <Svg>
    <rect x="2" y="2" width="5" height="6" rx="1" />
    <rect x="9" y="2" width="5" height="3.5" rx="1" />
    <rect x="9" y="7.5" width="5" height="6.5" rx="1" />
    <rect x="2" y="10" width="5" height="4" rx="1" />
  </Svg>
);

export const IconTasks = () => (
  <Svg>
    <path d="M6 4h8M6 8h8M6 12h8" />
    <circle cx="2.75" cy="4" r=".75" fill="currentColor" />
    <circle cx="2.75" cy="8" r=".75" fill="currentColor" />
    <circle cx="2.75" cy="12" r=".75" fill="currentColor" />
  </Svg>
);

export const IconWorkers = () => (
  <Svg>
    <rect x="2" y="2.5" width="12" height="4.5" rx="1" />
    <rect x="2" y="9" width="12" height="4.5" rx="1" />
    <circle cx="4.75" cy="4.75" r=".6" fill="currentColor" />
    <circle cx="4.75" cy="11.25" r=".6" fill="currentColor" />
  </Svg>
);

export const IconBroker = () => (
  <Svg>
    <path d="M2 4.5h9M2 8h12M2 11.5h7" />
    <path d="M12 2.5l2 2-2 2" />
  </Svg>
);

export const IconCharts = () => (
  <Svg>
    <path d="M2 14h12" />
    <path d="M2.5 11l3.5-4 3 2.5L14 3" />
  </Svg>
);

export const IconSun = () => (
  <Svg>
    <circle cx="8" cy="8" r="3" />
    <path d="M8 1.5v1.5M8 13v1.5M1.5 8H3M13 8h1.5M3.4 3.4l1 1M11.6 11.6l1 1M3.4 12.6l1-1M11.6 4.4l1-1" />
  </Svg>
);

export const IconMoon = () => (
  <Svg>
    <path d="M13.5 9.5A5.5 5.5 0 016.5 2.5a5.5 5.5 0 107 7z" />
  </Svg>
);

export const IconMonitor = () => (
  <Svg>
    <rect x="1.5" y="2.5" width="13" height="8.5" rx="1" />
    <path d="M5.5 14h5M8 11v3" />
  </Svg>
);

export const IconSearch = () => (
  <Svg>
    <circle cx="7" cy="7" r="4.5" />
    <path d="M10.5 10.5L14 14" />
  </Svg>
);

export const IconPetal = ({ size = 18 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden>
    <path d="M16 3c6 5 8 10 8 14a8 8 0 01-16 0c0-4 2-9 8-14z" fill="var(--accent)" />
    <path d="M16 9v18" stroke="var(--surface)" strokeWidth="1.6" strokeLinecap="round" opacity=".7" />
  </svg>
);
