/**
 * Celery/kombu Redis URLs → ioredis options. Understands
 *   redis://[[user]:password@]host[:port][/db]
 *   rediss://…[?ssl_ca_certs=/ca.pem][&ssl_certfile=/c.pem&ssl_keyfile=/k.pem][&ssl_cert_reqs=none]
 *                            (TLS, with redis-py/kombu's query names: a private CA, a client
 *                            certificate, `none` turns certificate checks off)
 *   sentinel://[:pw@]host:port[;sentinel://host:port…][/db]?master_name=mymaster
 * TLS options travel in the URL because the URL is all the ingest thread and a worker process
 * get (the same URL works for Celery). Certificate files are read here, at parse time.
 * Passwords never reach an error message or `redacted`.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { RedisOptions } from "ioredis";

export interface ParsedRedisUrl {
  options: RedisOptions;
  /** logical database, also the `/{db}.` fanout prefix of pub/sub channels (default: 0) */
  db: number;
  /** the URL with any password replaced by `***`, safe to log and show */
  redacted: string;
}

function fail(why: string): never {
  throw new Error(`invalid Redis URL: ${why}`);
}

function parseOne(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    return fail("cannot be parsed (expected redis://[:password@]host:port/db)");
  }
}

function parseDb(pathname: string): number {
  const p = pathname.replace(/^\//, "");
  if (p === "") return 0;
  if (!/^\d+$/.test(p)) fail("database must be a number, e.g. redis://localhost:6379/0");
  return Number(p);
}

function port(u: URL, fallback: number): number {
  return u.port === "" ? fallback : Number(u.port);
}

/** The contents of a certificate/key file named by query parameter `param`, or undefined. */
function pemFile(u: URL, param: string): Buffer | undefined {
  const path = u.searchParams.get(param);
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    return fail(`cannot read ${param} file ${JSON.stringify(path)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function tlsOptions(u: URL): ConnectionOptions {
  const tls: ConnectionOptions = {};
  const reqs = u.searchParams.get("ssl_cert_reqs");
  if (reqs && /^(none|cert_none)$/i.test(reqs)) tls.rejectUnauthorized = false;
  const ca = pemFile(u, "ssl_ca_certs");
  const cert = pemFile(u, "ssl_certfile");
  const key = pemFile(u, "ssl_keyfile");
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return tls;
}

function redact(u: URL): string {
  const copy = new URL(u.href);
  if (copy.password) copy.password = "***";
  return copy.href;
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const trimmed = url.trim();
  const scheme = /^([a-z]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === "redis" || scheme === "rediss") {
    const u = parseOne(trimmed);
    const db = parseDb(u.pathname);
    const options: RedisOptions = { host: u.hostname || "127.0.0.1", port: port(u, 6379), db };
    if (u.username) options.username = decodeURIComponent(u.username);
    if (u.password) options.password = decodeURIComponent(u.password);
    if (scheme === "rediss") options.tls = tlsOptions(u);
    return { options, db, redacted: redact(u) };
  }
  if (scheme === "sentinel") {
    // kombu joins several sentinels with ";"; the last part carries /db and ?master_name=.
    const parts = trimmed.split(";").map((p) => parseOne(p.trim()));
    const last = parts[parts.length - 1];
    const name = parts.map((p) => p.searchParams.get("master_name")).find((n) => n) ?? fail("sentinel:// needs ?master_name=<name>");
    const db = parseDb(last.pathname);
    const options: RedisOptions = {
      sentinels: parts.map((p) => ({ host: p.hostname || "127.0.0.1", port: port(p, 26379) })),
      name,
      db,
    };
    const withAuth = parts.find((p) => p.password);
    if (withAuth) {
      options.password = decodeURIComponent(withAuth.password);
      if (withAuth.username) options.username = decodeURIComponent(withAuth.username);
    }
    return { options, db, redacted: parts.map(redact).join(";") };
  }
  return fail(`unsupported scheme ${JSON.stringify(scheme ?? "")} (expected redis://, rediss:// or sentinel://)`);
}
