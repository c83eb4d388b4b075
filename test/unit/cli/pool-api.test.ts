/**
 * The client of the commands that ask a running controller (cli/pool-api.ts callApi): the bearer
 * token and a JSON body go out, the status and the JSON answer come back (an answer that is not
 * JSON leaves the status alone to speak), and a server that is not there, or not HTTP, is a usage
 * error naming --server. It sets no timeout of its own, which no test here waits out: checked by
 * hand against a server answering after 310 s, fetch gave up at 300.9 s (UND_ERR_HEADERS_TIMEOUT)
 * and callApi had the answer at 310.0 s.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIO } from "../../../src/cli/io.js";
import { callApi } from "../../../src/cli/pool-api.js";

const TOKEN = "pool-api-test-token-0123456789abcdef";
const io = {
  out: () => undefined,
  err: () => undefined,
  isTTY: false,
  env: { BERTH_API_TOKEN: TOKEN },
  cwd: "/",
} as CliIO;

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A loopback server answering each request with `answer`; what it was asked, as it was asked. */
async function serve(answer: (res: http.ServerResponse) => void) {
  const asked: { method?: string; url?: string; auth?: string; type?: string; body: string }[] = [];
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      asked.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers["content-type"],
        body,
      });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

describe("callApi", () => {
  it("sends the token and a JSON body, and reads the status and the JSON answer", async () => {
    const s = await serve((res) => {
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ member: "web-0" }));
    });
    const res = await callApi({ server: `${s.url}/` }, io, "POST", "/v1/pools/web/claims", { owner: "a" });
    expect(res).toEqual({ status: 201, body: { member: "web-0" }, server: `${s.url}/` });
    expect(s.asked).toEqual([
      {
        method: "POST",
        url: "/v1/pools/web/claims",
        auth: `Bearer ${TOKEN}`,
        type: "application/json",
        body: '{"owner":"a"}',
      },
    ]);
  });

  it("sends no body when there is none; an answer that is not JSON leaves its status", async () => {
    const s = await serve((res) => {
      res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
    });
    expect(await callApi({ server: s.url }, io, "POST", "/v1/specs/web/restart")).toEqual({
      status: 502,
      body: {},
      server: s.url,
    });
    expect(s.asked[0]).toMatchObject({ type: undefined, body: "" });
  });

  it("nothing listening, or not an http URL: a usage error naming --server", async () => {
    const s = await serve((res) => res.end());
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    await expect(callApi({ server: s.url }, io, "GET", "/v1/specs")).rejects.toThrow(
      new RegExp(`^no berth answers at ${s.url} \\(connect ECONNREFUSED .*\\); start berth run, or give --server$`),
    );
    await expect(callApi({ server: "unix:///run/berth.sock" }, io, "GET", "/v1/specs")).rejects.toThrow(
      "no berth answers at unix:///run/berth.sock (unix: is not http: or https:); start berth run, or give --server",
    );
    await expect(callApi({ server: "127.0.0.1:8080" }, io, "GET", "/v1/specs")).rejects.toThrow(
      "no berth answers at 127.0.0.1:8080",
    );
  });
});
