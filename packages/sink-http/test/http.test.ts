import { after, test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Runtime, type MetricsDocument } from "@resourcemonitor/runtime";
import { captureLogger, conformanceDocuments, sinkConformance, testSettings } from "@resourcemonitor/runtime/testing";
import httpSink, { createHttpSink, type HttpSinkOptions } from "../src/index.js";

const sinkOptions = (options: Partial<HttpSinkOptions> & { url: string }): HttpSinkOptions => ({ method: "POST", headers: {}, requestTimeout: 5, retries: 3, retryDelay: 0.5, ...options });

interface Received {
  body: string;
  headers: IncomingMessage["headers"];
  method: string | undefined;
  url: string | undefined;
}

type Behaviour = (request: IncomingMessage, response: ServerResponse, index: number) => void;

const ok: Behaviour = (_request, response) => response.writeHead(204).end();

/** A real HTTP server on 127.0.0.1; `behave` answers request number `index` (0-based), after its body was read. */
async function startServer(behave: Behaviour = ok): Promise<{ url: string; requests: Received[]; stored: () => string[]; close: () => Promise<void> }> {
  const requests: Received[] = [];
  const stored: string[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const index = requests.push({ body, headers: request.headers, method: request.method, url: request.url }) - 1;
      response.on("finish", () => response.statusCode < 300 && stored.push(body));
      behave(request, response, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    requests,
    stored: () => [...stored],
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const STATE = mkdtempSync(join(tmpdir(), "rm-sink-http-state-"));
after(() => rmSync(STATE, { recursive: true, force: true }));

/** A runtime with the http sink; a failed write goes to a spool under a scratch state directory. */
function runtimeWith(options: Record<string, unknown>) {
  const { logger, lines } = captureLogger("trace");
  const runtime = new Runtime({ settings: testSettings({ stateDir: mkdtempSync(join(STATE, "run-")) }), logger, emitTimeoutMs: 10_000 });
  runtime.use({ definition: httpSink, options });
  return { runtime, lines };
}

sinkConformance("sink-http (a local server)", async () => {
  const server = await startServer();
  return { definition: httpSink, options: { url: server.url }, received: async () => server.stored(), cleanup: server.close };
});

test("a server that fails the first requests (503, a dropped connection, 429) gets every document, once, in order", async () => {
  const failures: Behaviour[] = [
    (_q, response) => response.writeHead(503).end("busy"),
    (_q, response) => response.socket?.destroy(),
    (_q, response) => response.writeHead(429).end(),
  ];
  const server = await startServer((request, response, index) => (failures[index] ?? ok)(request, response, index));
  const { runtime, lines } = runtimeWith({ url: server.url, retryDelay: 0.01, retries: 3 });
  try {
    await runtime.start();
    const documents = conformanceDocuments(5);
    for (const document of documents) assert.equal((await runtime.emit(document)).sinks[0]?.ok, true);
    assert.deepEqual(server.stored().map((body) => JSON.parse(body) as MetricsDocument), documents);
    assert.equal(server.requests.length, documents.length + failures.length);
    assert.ok(lines.some((line) => line.level === "info" && line.msg === `POST ${server.url} delivered after 4 attempts`), JSON.stringify(lines.map((line) => line.msg)));
  } finally {
    await runtime.stop();
    await server.close();
  }
});

test("when every attempt fails the write throws (so the runtime can spool it), and the same document is delivered once the server is back", async () => {
  let down = true;
  const server = await startServer((request, response, index) => (down ? response.writeHead(502).end("bad gateway") : ok(request, response, index)));
  const sink = createHttpSink(sinkOptions({ url: server.url, retryDelay: 0.01, retries: 2 }), captureLogger().logger);
  try {
    const json = JSON.stringify(conformanceDocuments(1)[0]);
    await assert.rejects(sink.write(json), { message: `POST ${server.url}: HTTP 502: bad gateway (attempt 3 of 3)` });
    assert.equal(server.requests.length, 3);
    assert.deepEqual(server.stored(), []);
    down = false;
    await sink.write(json);
    assert.deepEqual(server.stored(), [json]);
  } finally {
    await server.close();
  }
});

test("a 4xx other than 408/429 is not retried: the request itself is wrong", async () => {
  const server = await startServer((_q, response) => response.writeHead(401).end("unauthorized"));
  const { runtime } = runtimeWith({ url: server.url, retryDelay: 0.01 });
  try {
    const report = await runtime.emit(conformanceDocuments(1)[0] as MetricsDocument);
    assert.equal(report.sinks[0]?.error, `POST ${server.url}: HTTP 401: unauthorized (attempt 1 of 4, not retried)`);
    assert.equal(server.requests.length, 1);
  } finally {
    await runtime.stop();
    await server.close();
  }
});

test("a server that never answers costs requestTimeout per attempt, then the write fails saying so", async () => {
  const server = await startServer(() => undefined);
  const { runtime } = runtimeWith({ url: server.url, requestTimeout: 0.2, retries: 1, retryDelay: 0 });
  try {
    const started = performance.now();
    const report = await runtime.emit(conformanceDocuments(1)[0] as MetricsDocument);
    const took = performance.now() - started;
    assert.equal(report.sinks[0]?.error, `POST ${server.url}: no answer within 0.2 s (attempt 2 of 2)`);
    assert.ok(took >= 400 && took < 2000, `took ${took} ms`);
  } finally {
    await runtime.stop();
    await server.close();
  }
});

test("headers from config are sent; their values, and credentials in the URL, never reach a log line", async () => {
  const server = await startServer((request, response, index) => (index === 0 ? response.writeHead(500).end() : ok(request, response, index)));
  const url = server.url.replace("http://", "http://ingest:pa55word@") + "?token=t0ken";
  const { runtime, lines } = runtimeWith({ url, method: "PUT", headers: { Authorization: "Bearer s3cr3t-value", "X-Team": "t3am-value" }, retryDelay: 0.01 });
  try {
    await runtime.start();
    assert.equal((await runtime.emit(conformanceDocuments(1)[0] as MetricsDocument)).sinks[0]?.ok, true);
    const request = server.requests[1];
    assert.equal(request?.method, "PUT");
    assert.equal(request?.url, "/ingest?token=t0ken");
    assert.equal(request?.headers.authorization, "Bearer s3cr3t-value", "a configured header wins over URL credentials");
    assert.equal(request?.headers["x-team"], "t3am-value");
    assert.equal(request?.headers["content-type"], "application/json");
    const logged = JSON.stringify(lines);
    assert.ok(lines.length >= 2, logged);
    for (const secret of ["s3cr3t-value", "t3am-value", "pa55word", "t0ken"]) assert.ok(!logged.includes(secret), `${secret} logged: ${logged}`);
    assert.ok(lines.some((line) => JSON.stringify(line.headers) === JSON.stringify(["Authorization", "X-Team"])), "header names are logged at start");
  } finally {
    await runtime.stop();
    await server.close();
  }
});

test("credentials in the URL become a Basic authorization header", async () => {
  const server = await startServer();
  const { runtime } = runtimeWith({ url: server.url.replace("http://", "http://ingest:pa%2055word@") });
  try {
    assert.equal((await runtime.emit(conformanceDocuments(1)[0] as MetricsDocument)).sinks[0]?.ok, true);
    assert.equal(server.requests[0]?.headers.authorization, `Basic ${Buffer.from("ingest:pa 55word").toString("base64")}`);
  } finally {
    await runtime.stop();
    await server.close();
  }
});

test("stop, or the runtime aborting the write, cuts a retry wait short", async () => {
  const server = await startServer((_q, response) => response.writeHead(503).end());
  const sink = createHttpSink(sinkOptions({ url: server.url, retryDelay: 20 }), captureLogger().logger);
  const json = JSON.stringify(conformanceDocuments(1)[0]);
  const cutShort = async (abort: () => void, write: Promise<void>) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    abort();
    await assert.rejects(write, /HTTP 503/);
    assert.ok(performance.now() - started < 1000, "the 20 s wait was aborted");
  };
  try {
    const controller = new AbortController();
    await cutShort(() => controller.abort(), sink.write(json, controller.signal));
    await cutShort(() => sink.stop(), sink.write(json));
  } finally {
    await server.close();
  }
});

test("options are checked: url is required and must be http(s)", () => {
  for (const options of [{}, { url: "ftp://x" }, { url: "http://x", retries: -1 }, { url: "http://x", timeout2: 1 }, { url: "http://[bad" }]) {
    assert.throws(() => runtimeWith(options), /invalid options/, JSON.stringify(options));
  }
});
