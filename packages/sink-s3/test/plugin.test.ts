import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listAll } from "@resourcemonitor/layout/testing";
import { loadConfig } from "@resourcemonitor/runtime";
import { sinkConformance } from "@resourcemonitor/runtime/testing";
import type { S3TestServer } from "@resourcemonitor/s3-test-server";
import s3Sink, { resolveOptions } from "../src/index.js";
import { BUCKET, bareSink, documentAt, readerStore, startServer, useTestCredentials } from "./helpers.js";

useTestCredentials();
let server: S3TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

let conformanceBuckets = 0;
sinkConformance("sink-s3 (history/ keeps every document)", async () => {
  const bucket = `sink-conformance-${(conformanceBuckets += 1)}`;
  server.createBucket(bucket);
  return {
    definition: s3Sink,
    options: { bucket, endpoint: server.endpoint, forcePathStyle: true },
    received: async () => {
      const reader = readerStore(server, bucket);
      const keys = await listAll(reader, "history/conformance-host/");
      return Promise.all(keys.map(async (key) => (await reader.get(key))?.body));
    },
    cleanup: async () => undefined,
  };
});

describe("the s3 sink", () => {
  beforeEach(() => {
    server.setConditional(true);
    server.resetCounts();
  });

  it("lays out history, latest and list.json, read back page by page byte for byte", async () => {
    server.createBucket("layout");
    const sink = bareSink(server, { bucket: "layout" });
    await sink.start();
    const documents = Array.from({ length: 5 }, (_, index) => documentAt(`2025-08-05T14:30:2${index}Z`, "server01", { note: `tick ${index}` }));
    for (const document of documents) await sink.write(document);
    await sink.stop();
    const reader = readerStore(server, "layout");
    const keys = await listAll(reader, "");
    assert.deepEqual(keys, [
      ".resourcemonitor/probe-server01",
      ...documents.map((_, index) => `history/server01/20250805_14302${index}.json`),
      "list.json",
      "server01.json",
    ]);
    for (const [index, document] of documents.entries()) {
      assert.equal((await reader.get(`history/server01/20250805_14302${index}.json`))?.body, JSON.stringify(document));
      assert.equal(server.objectInfo("layout", `history/server01/20250805_14302${index}.json`)?.contentType, "application/json");
    }
    assert.equal((await reader.get("server01.json"))?.body, JSON.stringify(documents.at(-1)));
    assert.deepEqual(Object.keys(JSON.parse((await reader.get("list.json"))?.body ?? "{}") as object), ["server01"]);
    assert.equal(server.objectInfo("layout", "list.json")?.contentType, "application/json");
  });

  it("logs the conditional-write mode once at start; a store that ignores the headers gets the verifying fallback", async () => {
    const strict = bareSink(server, { bucket: BUCKET });
    await strict.start();
    const modes = strict.lines.filter((line) => line.mode !== undefined);
    assert.deepEqual(modes.map(({ level, mode }) => ({ level, mode })), [{ level: "info", mode: "conditional" }]);
    assert.match(modes[0]?.msg ?? "", /honours conditional writes/);

    server.createBucket("lax");
    server.setConditional(false);
    const lax = bareSink(server, { bucket: "lax" });
    await lax.start();
    assert.deepEqual(lax.lines.filter((line) => line.mode !== undefined).map(({ level, mode }) => ({ level, mode })), [{ level: "warn", mode: "verify" }]);
    const same = documentAt("2025-08-05T14:30:22Z");
    await lax.write(same);
    await lax.write({ ...same, note: "a restart within the same second" });
    assert.deepEqual(await listAll(readerStore(server, "lax"), "history/"), ["history/server01/20250805_143022.json", "history/server01/20250805_143022_1.json"]);
  });

  it("converts a legacy list.json, drops stale hosts and keeps a corrupt one aside", async () => {
    server.createBucket("lists");
    const reader = readerStore(server, "lists");
    const sink = bareSink(server, { bucket: "lists" });
    await sink.start();
    await reader.put("list.json", JSON.stringify(["old01", "old02"]));
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    assert.deepEqual(Object.keys(JSON.parse((await reader.get("list.json"))?.body ?? "") as object), ["old01", "old02", "server01"]);
    assert.ok(sink.lines.some((line) => line.msg.includes("converted list.json from the legacy list")));

    const fresh = `${new Date(Date.now() - 60_000).toISOString().slice(0, 19)}Z`;
    await reader.put("list.json", JSON.stringify({ gone: "2020-01-01T00:00:00Z", server02: fresh }));
    await sink.write(documentAt("2025-08-05T14:30:23Z"));
    const list = JSON.parse((await reader.get("list.json"))?.body ?? "") as Record<string, string>;
    assert.deepEqual(Object.keys(list), ["server01", "server02"]);
    assert.equal(list.server02, fresh);

    await reader.put("list.json", "{ truncated");
    await sink.write(documentAt("2025-08-05T14:30:24Z"));
    const aside = (await listAll(reader, "list.json.corrupt-"));
    assert.equal(aside.length, 1);
    assert.equal((await reader.get(aside[0] ?? ""))?.body, "{ truncated");
    assert.deepEqual(Object.keys(JSON.parse((await reader.get("list.json"))?.body ?? "") as object), ["server01"]);
    assert.ok(sink.lines.some((line) => line.level === "warn" && line.msg.includes(aside[0] ?? "?")));
  });

  it("sends prefix, path-style addressing, region and SSE-KMS as configured", async () => {
    const sink = bareSink(server, { bucket: BUCKET, prefix: "fleet/eu", region: "eu-central-1", sse: "aws:kms", kmsKeyId: "arn:aws:kms:eu-central-1:111122223333:key/abc" });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    const requests = server.requests();
    assert.ok(requests.length >= 5);
    for (const request of requests) {
      assert.ok(request.url.startsWith(`/${BUCKET}/fleet/eu/`), `path-style under the prefix: ${request.url}`);
      assert.match(String(request.headers.authorization), /Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-central-1\/s3\/aws4_request/);
    }
    const puts = requests.filter((request) => request.method === "PUT");
    assert.deepEqual(puts.map((request) => request.key), [
      "fleet/eu/.resourcemonitor/probe-server01",
      "fleet/eu/.resourcemonitor/probe-server01",
      "fleet/eu/history/server01/20250805_143022.json",
      "fleet/eu/server01.json",
      "fleet/eu/list.json",
    ]);
    for (const put of puts) {
      assert.equal(put.headers["x-amz-server-side-encryption"], "aws:kms");
      assert.equal(put.headers["x-amz-server-side-encryption-aws-kms-key-id"], "arn:aws:kms:eu-central-1:111122223333:key/abc");
    }
    assert.equal(puts[2]?.headers["if-none-match"], "*", "history is create-only");
    assert.equal(puts[4]?.headers["if-none-match"], "*", "list.json created only if absent");
  });

  it("SSE-S3 sends AES256 without a key id; list.json is compare-and-swapped with If-Match", async () => {
    const sink = bareSink(server, { bucket: BUCKET, sse: "AES256", prefix: "sse-s3" });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    server.resetCounts();
    await sink.write(documentAt("2025-08-05T14:30:23Z"));
    const puts = server.requests().filter((request) => request.method === "PUT");
    assert.equal(puts.length, 3);
    for (const put of puts) {
      assert.equal(put.headers["x-amz-server-side-encryption"], "AES256");
      assert.equal(put.headers["x-amz-server-side-encryption-aws-kms-key-id"], undefined);
    }
    assert.match(String(puts[2]?.headers["if-match"]), /^"[0-9a-f]{32}"$/);
    assert.deepEqual(server.counts().byMethod, { PUT: 3, GET: 1 }, "3 PUT + 1 GET a tick, as the original agent");
  });

  it("reads list.json while the history object is being written: three round trips a tick, the writes still in order", async () => {
    const sink = bareSink(server, { bucket: BUCKET, prefix: "overlap" });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    server.resetCounts();
    server.setLatency([40, 40]);
    try {
      await sink.write(documentAt("2025-08-05T14:30:23Z"));
    } finally {
      server.setLatency(undefined);
    }
    const order = server.requests().map((request) => `${request.method} ${request.key}`);
    assert.deepEqual(order.slice(2), ["PUT overlap/server01.json", "PUT overlap/list.json"], order.join(", "));
    assert.deepEqual(new Set(order.slice(0, 2)), new Set(["PUT overlap/history/server01/20250805_143023.json", "GET overlap/list.json"]), "sent together, before <host>.json");
    assert.deepEqual(server.counts().byMethod, { PUT: 3, GET: 1 });
  });

  it("listRefreshSeconds: list.json is rewritten only when due, so most ticks cost two PUTs", async () => {
    const sink = bareSink(server, { bucket: BUCKET, prefix: "refresh", listRefreshSeconds: 30 });
    await sink.start();
    server.resetCounts();
    for (let second = 0; second < 5; second += 1) await sink.write(documentAt(`2025-08-05T14:30:0${second}Z`));
    assert.deepEqual(server.counts().byMethod, { PUT: 2 * 5 + 1, GET: 1 });
  });

  it("a replayed document with newer ones queued goes to history only", async () => {
    const sink = bareSink(server, { bucket: BUCKET, prefix: "replay" });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:30Z"));
    await sink.write(documentAt("2025-08-05T14:30:10Z"), { replay: true, latest: false, signal: new AbortController().signal });
    const reader = readerStore(server, BUCKET);
    assert.equal(JSON.parse((await reader.get("replay/server01.json"))?.body ?? "{}").timestamp, "2025-08-05T14:30:30Z");
    assert.ok(await reader.get("replay/history/server01/20250805_143010.json"));
  });
});

describe("options", () => {
  it("fill their gaps from the environment as the original agent and the AWS SDK do", () => {
    const env = {
      S3_BUCKET_NAME: "from-env",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_REGION: "us-west-2",
      AWS_ENDPOINT_URL: "http://general:9000",
      AWS_ENDPOINT_URL_S3: "http://minio:9000",
      S3_FORCE_PATH_STYLE: "true",
    };
    assert.deepEqual(resolveOptions({}, env), {
      bucket: "from-env",
      region: "eu-west-1",
      prefix: "",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      sse: undefined,
      kmsKeyId: undefined,
      requestTimeoutMs: 5000,
      maxAttempts: 3,
      listRefreshSeconds: 0,
      leanRequests: true,
    });
    assert.equal(resolveOptions({}, { S3_BUCKET_NAME: "b-1", AWS_REGION: "us-west-2" }).region, "us-west-2");
    assert.equal(resolveOptions({}, { S3_BUCKET_NAME: "b-1" }).region, "us-east-1");
    assert.equal(resolveOptions({}, { S3_BUCKET_NAME: "b-1", AWS_ENDPOINT_URL: "http://general:9000" }).endpoint, "http://general:9000");
    assert.equal(resolveOptions({ bucket: "opt", region: "ap-south-1", forcePathStyle: false }, env).bucket, "opt");
    assert.equal(resolveOptions({ forcePathStyle: false }, env).forcePathStyle, false);
  });

  it("refuse a missing bucket, a bad S3_BUCKET_NAME or S3_FORCE_PATH_STYLE with the variable's name", () => {
    assert.throws(() => resolveOptions({}, {}), /no bucket: set S3_BUCKET_NAME/);
    assert.throws(() => resolveOptions({}, { S3_BUCKET_NAME: "a/b" }), /S3_BUCKET_NAME "a\/b" is no bucket name/);
    assert.throws(() => resolveOptions({}, { S3_BUCKET_NAME: "bucket", S3_FORCE_PATH_STYLE: "maybe" }), /S3_FORCE_PATH_STYLE="maybe": expected true or false/);
  });

  it("have a schema with a description on every property, and refuse bad values", () => {
    const properties = s3Sink.optionsSchema.properties as Record<string, { description?: string }>;
    for (const [name, schema] of Object.entries(properties)) assert.ok(schema.description, `${name} has a description`);
    assert.deepEqual(Object.keys(properties).sort(), ["bucket", "endpoint", "forcePathStyle", "kmsKeyId", "leanRequests", "listRefreshSeconds", "maxAttempts", "prefix", "region", "requestTimeoutMs", "sse"]);
  });

  it("a bad prefix or hostname stops the start before any request", async () => {
    server.resetCounts();
    await assert.rejects(bareSink(server, { prefix: "a//b" }).start(), /invalid key prefix "a\/\/b"/);
    await assert.rejects(bareSink(server, {}, "../etc").start(), /invalid hostname/);
    assert.equal(server.counts().total, 0);
  });
});


describe("the agent's configuration", () => {
  it("maps the original KEY=VALUE file and the environment onto the default preset's s3 sink", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rm-sink-s3-config-"));
    try {
      const envFile = join(dir, "config");
      await writeFile(envFile, "S3_BUCKET_NAME=from-file\nS3_FORCE_PATH_STYLE=true\nAWS_ENDPOINT_URL_S3=http://minio:9000\n");
      const viaFile = await loadConfig({ envFile, env: { AWS_REGION: "us-west-2" }, cwd: dir, defaultCollectors: [] });
      assert.deepEqual(viaFile.sinks.map(({ name, options }) => ({ name, options })), [{ name: "s3", options: { bucket: "from-file", region: "us-west-2", prefix: "" } }]);
      assert.deepEqual(viaFile.aws, { S3_FORCE_PATH_STYLE: "true", AWS_ENDPOINT_URL_S3: "http://minio:9000" }, "handed to the environment the SDK and the sink read");
      assert.deepEqual(viaFile.warnings, []);
      const viaEnv = await loadConfig({ envFile, env: { S3_BUCKET_NAME: "from-env", AWS_DEFAULT_REGION: "eu-west-1", AWS_REGION: "us-west-2" }, cwd: dir, defaultCollectors: [] });
      assert.deepEqual(viaEnv.sinks[0]?.options, { bucket: "from-env", region: "eu-west-1", prefix: "" });
      const withoutBucket = await loadConfig({ envFile: "", env: { AWS_REGION: "us-west-2" }, cwd: dir, defaultCollectors: [] });
      assert.deepEqual(withoutBucket.sinks.map((entry) => entry.name), ["file"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
