/**
 * Test helper (node only), beside redis-server.ts: a redis-server that speaks only TLS (with a
 * throwaway CA and server certificate made by openssl at test time), and a real Redis Sentinel
 * watching a private master. Every server listens on 127.0.0.1 on a free port; its files live
 * in a temp dir that stop() removes.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { askRedis as ask, check, freePort, startRedisServer, type RedisServerHandle } from "./redis-server";

export const OPENSSL_MISSING = "openssl not installed (apt-get install -y openssl)";

let opensslChecked: boolean | undefined;

/** false when openssl can run, else the skip reason (throws under CI). For describe.skipIf. */
export function requireOpenssl(): string | false {
  opensslChecked ??= spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;
  return check(opensslChecked, OPENSSL_MISSING);
}

export interface TlsRedisHandle {
  /** rediss://127.0.0.1:port/0 (no CA in it: pass `ca`, or use `urlWithCa`) */
  url: string;
  /** the same URL with ?ssl_ca_certs=<caFile>, as a Celery user would write it */
  urlWithCa: string;
  port: number;
  /** PEM of the throwaway CA that signed the server certificate */
  ca: Buffer;
  caFile: string;
  /** stops the server and removes its certificates */
  stop(): Promise<void>;
}

export interface SentinelHandle {
  /** sentinel://127.0.0.1:sentinelPort/0?master_name=<masterName> */
  url: string;
  sentinelPort: number;
  masterName: string;
  /** the plain redis-server the sentinel monitors */
  master: RedisServerHandle;
  /** stops sentinel and master and removes the sentinel's config dir */
  stop(): Promise<void>;
}

async function spawnServer(label: string, args: string[], ready: () => Promise<boolean>): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  let exitedEarly = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => (exitedEarly = true));
  const deadline = Date.now() + 10_000;
  while (!(await ready())) {
    if (exitedEarly) throw new Error(`${label} exited at start: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${label} did not answer in time`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopping: Promise<void> | null = null;
  return () =>
    (stopping ??= (async () => {
      if (exitedEarly) return;
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(kill);
    })());
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error}`);
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it, valid for a day (EC keys: fast). */
function makeCertificates(dir: string): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=petal test CA"]);
  openssl(dir, ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext"]);
}

/** A redis-server with TLS only (`--port 0`), clients unauthenticated by certificate. */
export async function startTlsRedisServer(): Promise<TlsRedisHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "petal-redis-tls-"));
  try {
    makeCertificates(dir);
    const caFile = path.join(dir, "ca.crt");
    const ca = readFileSync(caFile);
    const port = await freePort();
    const f = (n: string) => path.join(dir, n);
    const args = ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"];
    args.push("--tls-cert-file", f("server.crt"), "--tls-key-file", f("server.key"), "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no");
    const ping = async () => (await ask(() => tls.connect({ host: "127.0.0.1", port, ca }), "PING", "secureConnect"))?.startsWith("+PONG") ?? false;
    const stopServer = await spawnServer(`TLS redis-server on port ${port}`, args, ping);
    const url = `rediss://127.0.0.1:${port}/0`;
    return {
      url,
      urlWithCa: `${url}?ssl_ca_certs=${encodeURIComponent(caFile)}`,
      port,
      ca,
      caFile,
      stop: async () => {
        await stopServer();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A plain master and one Sentinel (quorum 1) monitoring it as `masterName`. */
export async function startSentinel(masterName = "mymaster"): Promise<SentinelHandle> {
  const master = await startRedisServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), "petal-sentinel-"));
  try {
    const sentinelPort = await freePort();
    // Sentinel rewrites its config file (it records what it learns), so it must be writable.
    const conf = path.join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [`port ${sentinelPort}`, "bind 127.0.0.1", `dir ${dir}`, `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`, `sentinel down-after-milliseconds ${masterName} 5000`, ""].join("\n"),
    );
    const knowsMaster = async () => (await ask(() => net.connect({ host: "127.0.0.1", port: sentinelPort }), `SENTINEL get-master-addr-by-name ${masterName}`, "connect"))?.includes(String(master.port)) ?? false;
    const stopSentinel = await spawnServer(`sentinel on port ${sentinelPort}`, [conf, "--sentinel", "--loglevel", "warning"], knowsMaster);
    return {
      url: `sentinel://127.0.0.1:${sentinelPort}/0?master_name=${encodeURIComponent(masterName)}`,
      sentinelPort,
      masterName,
      master,
      stop: async () => {
        await stopSentinel();
        await master.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
