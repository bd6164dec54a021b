import { describe, expect, it } from "vitest";
import { parseCli, type CliResult } from "./cli";

function serveWithWarnings(argv: string[], env: Record<string, string> = {}) {
  const r = parseCli(argv, env);
  if (r.kind !== "serve") throw new Error(`expected serve, got ${JSON.stringify(r)}`);
  return r;
}

function serve(argv: string[], env: Record<string, string> = {}) {
  return serveWithWarnings(argv, env).config;
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

  it("takes every Redis URL form the transport does, and refuses other schemes", () => {
    for (const url of ["redis://h:1/0", "rediss://h:1/0?ssl_cert_reqs=none", "sentinel://h:26379;sentinel://h2:26379/0?master_name=m"]) expect(serve(["--broker", url]).broker).toBe(url);
    expect(() => serve(["--broker", "amqp://guest@h//"])).toThrow(/invalid broker URL/);
  });

  it("takes Celery's global_keyprefix for a Redis broker, from the flag or PETAL_GLOBAL_KEYPREFIX", () => {
    expect(serve(["--broker", "redis://h:1/0", "--global-keyprefix", "pfx:"]).globalKeyprefix).toBe("pfx:");
    expect(serve(["--broker", "redis://h:1/0"], { PETAL_GLOBAL_KEYPREFIX: "env:" }).globalKeyprefix).toBe("env:");
    expect(serve(["--broker", "redis://h:1/0"]).globalKeyprefix).toBeUndefined();
    expect(fail(["--global-keyprefix", "pfx:"]).output).toBe("petal: --global-keyprefix applies to a Redis broker only\n");
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

  it("hands `worker …` untouched to the worker CLI, flags that share our names included", () => {
    expect(parseCli(["worker", "-A", "proj", "--broker", "redis://h/1", "-c", "4"], {})).toEqual({
      kind: "worker",
      argv: ["-A", "proj", "--broker", "redis://h/1", "-c", "4"],
    });
    expect(fail(["--help"]).output).toMatch(/worker/);
  });
});

describe("parseCli: Flower drop-in", () => {
  it("accepts Flower's underscore spellings, with = or a separate value", () => {
    const c = serve(["--basic_auth=admin:pw,ops:x", "--url_prefix", "flower", "--max_tasks=5000", "--port=5566", "--address=0.0.0.0", "--broker=redis://h:6379/0"]);
    expect(c).toMatchObject({ basicAuth: "admin:pw,ops:x", urlPrefix: "/flower", maxTasks: 5000, port: 5566, address: "0.0.0.0", broker: "redis://h:6379/0", demo: false });
    expect(fail(["--max_tasks", "0"]).output).toMatch(/--max_tasks/);
    expect(fail(["--basic_auth", "nocolon"]).output).toMatch(/basic auth/);
  });

  it("lets Petal's spelling win when both are given", () => {
    expect(serve(["--max-tasks", "10", "--max_tasks", "20"]).maxTasks).toBe(10);
  });

  it("reads FLOWER_* and CELERY_BROKER_URL/BROKER_URL env after PETAL_*", () => {
    const flower = {
      FLOWER_PORT: "5600",
      FLOWER_ADDRESS: "0.0.0.0",
      FLOWER_BASIC_AUTH: "f:p",
      FLOWER_URL_PREFIX: "fl",
      FLOWER_MAX_TASKS: "77",
      CELERY_BROKER_URL: "redis://celery:6379/1",
      BROKER_URL: "redis://old:6379/2",
    };
    expect(serve([], flower)).toMatchObject({ port: 5600, address: "0.0.0.0", basicAuth: "f:p", urlPrefix: "/fl", maxTasks: 77, broker: "redis://celery:6379/1", demo: false });
    expect(serve([], { BROKER_URL: "redis://old:6379/2" }).broker).toBe("redis://old:6379/2");
    const petal = { PETAL_PORT: "6000", PETAL_ADDRESS: "::1", PETAL_BASIC_AUTH: "u:p", PETAL_URL_PREFIX: "/pp", PETAL_MAX_TASKS: "42", PETAL_BROKER: "memory://" };
    expect(serve([], { ...flower, ...petal })).toMatchObject({ port: 6000, address: "::1", basicAuth: "u:p", urlPrefix: "/pp", maxTasks: 42, broker: "memory://" });
    expect(serve(["--port", "7000", "--broker", "memory://"], flower)).toMatchObject({ port: 7000, broker: "memory://" });
  });

  it("names the env variable that was wrong, without echoing secrets", () => {
    expect(fail([], { FLOWER_PORT: "http" }).output).toMatch(/FLOWER_PORT/);
    expect(fail([], { FLOWER_MAX_TASKS: "-3" }).output).toMatch(/FLOWER_MAX_TASKS/);
    const bad = fail([], { CELERY_BROKER_URL: "amqp://guest:s3cret@rabbit//" });
    expect(bad.output).toMatch(/invalid CELERY_BROKER_URL/);
    expect(bad.output).not.toContain("s3cret");
    expect(fail(["--basic-auth", "s3cret"]).output).not.toContain("s3cret");
  });

  it("accepts common Flower-only options with a one-line warning each", () => {
    const r = serveWithWarnings(["--persistent=True", "--db", "flower.db", "--state_save_interval=60000", "--enable_events=False", "--auto_refresh", "--broker_api=http://guest:guest@rabbit:15672/api/", "--conf=flowerconfig.py", "--port", "5555"]);
    expect(r.config.port).toBe(5555);
    // --db is Petal's own history path now, not an ignored Flower option.
    expect(r.warnings).toHaveLength(6);
    for (const w of r.warnings) expect(w).toMatch(/^ignoring Flower option --\w+: .+/);
    expect(r.warnings.join("\n")).not.toContain("\n\n");
    expect(r.warnings[0]).toBe("ignoring Flower option --persistent: Petal always keeps history in SQLite (--db PATH, --no-persist)");
    expect(serveWithWarnings([]).warnings).toEqual([]);
  });

  it("refuses Flower's OAuth and TLS options instead of dropping them silently", () => {
    for (const argv of [["--auth=.*@example\\.com"], ["--certfile", "/x.pem"], ["--keyfile=/k.pem"]]) {
      const r = fail(argv);
      expect(r.code).toBe(2);
      expect(r.output).toMatch(/is not supported/);
      expect(r.output.trim().split("\n")).toHaveLength(1);
    }
    expect(fail(["--no_such_flower_flag"]).output).toMatch(/unknown option/);
  });

  it("mentions the Flower spellings in help", () => {
    expect(fail(["--help"]).output).toMatch(/--basic_auth/);
  });
});
