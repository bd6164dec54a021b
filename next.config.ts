import type { NextConfig } from "next";

// Telemetry off for every `next` command that loads this config (Petal runs on closed networks).
process.env.NEXT_TELEMETRY_DISABLED = "1";

/**
 * Optional path prefix when Petal is served behind a proxy, e.g. "/flower" (default: none).
 * The browser reads the same variable to reach `${prefix}/socket.io` and `${prefix}/api`.
 */
const prefix = (process.env.NEXT_PUBLIC_PETAL_PREFIX ?? "").replace(/\/+$/, "");

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  ...(prefix ? { basePath: prefix } : {}),
  // Petal binds 127.0.0.1 by default; Next 16 blocks dev-mode scripts for origins not listed.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  // The dev indicator would overlap the bottom-left nav and screenshots.
  devIndicators: false,
  // `npm run typecheck` checks the whole project; PETAL_SKIP_TYPECHECK=1 lets a UI-only build
  // skip the second pass (default: type-check during `next build`).
  typescript: { ignoreBuildErrors: process.env.PETAL_SKIP_TYPECHECK === "1" },
};

export default nextConfig;
