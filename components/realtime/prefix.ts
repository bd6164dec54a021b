/**
 * Path prefix when Petal sits behind a proxy, e.g. "/flower" (default: none). Set at build time
 * through NEXT_PUBLIC_PETAL_PREFIX, the same variable next.config.ts turns into basePath.
 */
export const PETAL_PREFIX: string = (process.env.NEXT_PUBLIC_PETAL_PREFIX ?? "").replace(/\/+$/, "");

export function apiUrl(path: string): string {
  return `${PETAL_PREFIX}${path.startsWith("/") ? path : `/${path}`}`;
}
