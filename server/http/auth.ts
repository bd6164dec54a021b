/**
 * HTTP basic auth shared by the API, the pages and socket.io (the main server calls
 * checkBasicAuth for all three, so one rule guards everything).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { PetalConfig } from "../context";

export type AuthResult =
  /** `user` is null when no auth is configured */
  | { ok: true; user: string | null }
  | { ok: false };

export const WWW_AUTHENTICATE = 'Basic realm="Petal", charset="UTF-8"';

interface Credential {
  user: string;
  /** SHA-256 of "user:pass": equal lengths, so the compare leaks no length */
  digest: Buffer;
}

// Parsed once per distinct config string: auth runs on every request.
let cache: { spec: string; creds: Credential[] } | null = null;

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/** "user:pass[,user2:pass2]"; a password may itself contain ':' (split at the first one). */
export function parseBasicAuth(spec: string): Credential[] {
  if (cache && cache.spec === spec) return cache.creds;
  const creds: Credential[] = [];
  for (const part of spec.split(",")) {
    const p = part.trim();
    const i = p.indexOf(":");
    if (i <= 0) continue;
    creds.push({ user: p.slice(0, i), digest: sha256(p) });
  }
  cache = { spec, creds };
  return creds;
}

/** True when the request may pass: auth is off, or its Authorization header matches `config.basicAuth`. */
export function checkBasicAuth(req: { headers: IncomingHttpHeaders }, config: Pick<PetalConfig, "basicAuth">): boolean {
  return authenticate(req, config).ok;
}

/** Like checkBasicAuth, but also says who: `user` is null when auth is off. */
export function authenticate(
  req: { headers: IncomingHttpHeaders },
  config: Pick<PetalConfig, "basicAuth">,
): AuthResult {
  if (!config.basicAuth) return { ok: true, user: null };
  const creds = parseBasicAuth(config.basicAuth);
  const header = req.headers.authorization;
  if (typeof header !== "string") return { ok: false };
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return { ok: false };
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const sep = decoded.indexOf(":");
  if (sep <= 0) return { ok: false };
  const given = sha256(decoded);
  let matched: string | null = null;
  // Compare against every credential, without an early exit, so timing does not reveal which user exists.
  for (const c of creds) {
    if (timingSafeEqual(given, c.digest) && matched === null) matched = c.user;
  }
  return matched === null ? { ok: false } : { ok: true, user: matched };
}
