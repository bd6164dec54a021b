import { describe, expect, it } from "vitest";
import { parseCli, type CliResult } from "./main";

function serve(argv: string[], env: Record<string, string> = {}) {
  const r = parseCli(argv, env);
  if (r.kind !== "serve") throw new Error(`expected serve, got exit ${r.code}: ${r.output}`);
  return r.config;
}

function fail(argv: string[], env: Record<string, string> = {}): Extract<CliResult, { kind: "exit" }> {
  const r = parseCli(argv, env);
  if (r.kind !== "exit") throw new Error("expected an exit, got a config");
  return r;
}

describe("parseCli", () => {
  it("uses documented defaults", () => {
    expect(serve([])).toEqual({
      port: 5555,
      address: "127.0.0.1",
      broker: "memory://",
      demo: true,
      basicAuth: null,
      readOnly: false,
      maxTasks: 100000,
      urlPrefix: "",
      dev: false,
      logLevel: "info",
    });
  });

  it("reads every flag", () => {
    const c = serve([
      "--port", "8080", "--address", "0.0.0.0", "--broker", "redis://localhost:6379/0", "--demo",
      "--basic-auth", "admin:s3cr:et,ops:x", "--read-only", "--max-tasks", "5000", "--url-prefix", "flower/",
      "--dev", "--log-level", "debug",
    ]);
    expect(c).toEqual({
      port: 8080,
      address: "0.0.0.0",
      broker: "redis://localhost:6379/0",
      demo: true,
      basicAuth: "admin:s3cr:et,ops:x",
      readOnly: true,
      maxTasks: 5000,
      urlPrefix: "/flower",
      dev: true,
      logLevel: "debug",
    });
  });

  it("turns the demo off by default for a non-memory broker and on --no-demo", () => {
    expect(serve(["--broker", "redis://h:1/0"]).demo).toBe(false);
    expect(serve(["--no-demo"]).demo).toBe(false);
  });

  it("reads PETAL_* env", () => {
    const c = serve([], {
      PETAL_PORT: "6000",
      PETAL_ADDRESS: "::1",
      PETAL_BROKER: "memory://x",
      PETAL_DEMO: "0",
      PETAL_BASIC_AUTH: "u:p",
      PETAL_READ_ONLY: "yes",
      PETAL_MAX_TASKS: "42",
      PETAL_URL_PREFIX: "/a/b",
    });
    expect(c).toMatchObject({ port: 6000, address: "::1", broker: "memory://x", demo: false, basicAuth: "u:p", readOnly: true, maxTasks: 42, urlPrefix: "/a/b" });
  });

  it("lets flags win over env", () => {
    const env = { PETAL_PORT: "6000", PETAL_DEMO: "false", PETAL_READ_ONLY: "0", PETAL_BROKER: "redis://h:1/0" };
    const c = serve(["--port", "7000", "--demo", "--read-only", "--broker", "memory://"], env);
    expect(c).toMatchObject({ port: 7000, demo: true, readOnly: true, broker: "memory://" });
  });

  it.each([
    [["--port", "abc"], /--port.*integer.*"abc"/],
    [["--port", "70000"], /--port/],
    [["--port", "-1"], /port/],
    [["--max-tasks", "0"], /--max-tasks/],
    [["--broker", "amqp://x"], /broker/],
    [["--basic-auth", "nocolon"], /basic auth/],
    [["--url-prefix", "a b"], /url prefix/],
    [["--log-level", "loud"], /log-level|loud/],
    [["--bogus"], /unknown option/],
  ])("rejects %j with a one-line error and exit 2", (argv, re) => {
    const r = fail(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stream).toBe("stderr");
    expect(r.output).toMatch(re);
    expect(r.output.trim().split("\n")).toHaveLength(1);
  });

  it("rejects bad env values too", () => {
    expect(fail([], { PETAL_PORT: "http" }).output).toMatch(/PETAL_PORT/);
    expect(fail([], { PETAL_DEMO: "maybe" }).output).toMatch(/PETAL_DEMO/);
  });

  it("prints help and version with exit 0", () => {
    const h = fail(["--help"]);
    expect(h.code).toBe(0);
    expect(h.output).toMatch(/--max-tasks/);
    const v = parseCli(["--version"], {}, "1.2.3");
    expect(v).toMatchObject({ kind: "exit", code: 0, output: "1.2.3\n" });
  });

  it("has a worker placeholder that exits 2", () => {
    const r = fail(["worker", "-A", "proj", "--concurrency", "4"]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/the Redis worker CLI arrives with redis:\/\/ support/);
  });
});
