/**
 * Test helper: serve createHttpHandler on a real port-0 HTTP server and call it with fetch.
 * Anything the API does not answer gets a plain 404 "next", so tests can see the hand-off.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ServerContext } from "../context";
import { createHttpHandler } from "./router";
import type { Route } from "./types";

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** parsed body (undefined when not JSON) */
  // Tests only: assertions read arbitrary response shapes.
  json: any;
}

export interface TestServer {
  url: string;
  request(method: string, path: string, init?: { body?: string | object; headers?: Record<string, string> }): Promise<HttpReply>;
  get(path: string, headers?: Record<string, string>): Promise<HttpReply>;
  post(path: string, body?: string | object, headers?: Record<string, string>): Promise<HttpReply>;
  close(): Promise<void>;
}

export async function startTestServer(ctx: ServerContext, routes?: Route[]): Promise<TestServer> {
  const handler = createHttpHandler(ctx, routes);
  const server = http.createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end("next");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const request: TestServer["request"] = async (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined;
    if (typeof init.body === "string") body = init.body;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    if ((res.headers.get("content-type") ?? "").startsWith("application/json")) json = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, json };
  };

  return {
    url,
    request,
    get: (path, headers) => request("GET", path, { headers }),
    post: (path, body, headers) => request("POST", path, { body, headers }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
