import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent, type AgentOptions } from "node:http";
import type { LookupFunction } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { listAll } from "@resourcemonitor/layout/testing";
import type { RecordedRequest, S3TestServer } from "@resourcemonitor/s3-test-server";
import { createS3Store, type S3ObjectStore, type S3StoreOptions } from "../src/index.js";
import { BUCKET, bareSink, documentAt, readerStore, startServer, useTestCredentials } from "./helpers.js";

useTestCredentials();
let server: S3TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());
beforeEach(() => {
  server.resetCounts();
  return server.setFault("none");
});

/** The lean path says so in its User-Agent (never signed); the SDK's starts with `aws-sdk-js`. */
const isLean = (request: RecordedRequest) => String(request.headers["user-agent"]).startsWith("resourcemonitor-sink-s3");

function client(endpoint: string, options: { secret?: string; forcePathStyle?: boolean; agent?: Agent; maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: options.forcePathStyle ?? true,
    maxAttempts: options.maxAttempts ?? 3,
    credentials: { accessKeyId: "reader", secretAccessKey: options.secret ?? "reader" },
    requestHandler: new NodeHttpHandler({ httpAgent: options.agent, requestTimeout: 2000, throwOnRequestTimeout: true }),
  });
}

function store(s3: S3Client, options: Partial<S3StoreOptions> = {}): S3ObjectStore {
  return createS3Store(s3, { bucket: BUCKET, endpoint: server.endpoint, requestTimeoutMs: 2000, maxAttempts: 3, ...options });
}

/** Every name resolves to the loopback address, so `<bucket>.s3.test.internal` reaches the test server. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

describe("the lean request path", () => {
  it("takes GetObject, PutObject and ListObjectsV2 itself, and the server accepts its signatures", async () => {
    const s3 = client(server.endpoint);
    const lean = store(s3);
    await lean.put("lean/a.json", "{\"a\":1}", { contentType: "application/json" });
    assert.deepEqual(await lean.get("lean/a.json"), { body: "{\"a\":1}", version: server.objectInfo(BUCKET, "lean/a.json")?.etag });
    assert.equal(await lean.get("lean/missing.json"), undefined);
    assert.deepEqual(await listAll(lean, "lean/"), ["lean/a.json"]);
    const requests = server.requests();
    assert.equal(requests.length, 4);
    assert.ok(requests.every(isLean), JSON.stringify(requests.map((request) => request.headers["user-agent"])));
    assert.equal(requests[0]?.headers["x-amz-checksum-crc32"], "Vhusrw==", "the body's CRC32, as the SDK sends it by default (its value for this body)");
    lean.destroy();
    s3.destroy();
  });

  it("the server rejects a wrong signature, and the SDK's error reaches the caller unchanged", async () => {
    const s3 = client(server.endpoint, { secret: "not-the-secret", maxAttempts: 1 });
    const wrong = store(s3, { maxAttempts: 1 });
    await assert.rejects(wrong.put("lean/b.json", "{}"), {
      message: "S3 rejected the AWS credentials (SignatureDoesNotMatch) on s3:PutObject s3://monitoring-bucket/lean/b.json: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile or role the agent runs with",
    });
    assert.equal(server.objectInfo(BUCKET, "lean/b.json"), undefined, "nothing was written");
    assert.equal(server.requests().length, 1, "the SDK replays the lean answer as its first attempt instead of asking again");
    const unsigned = await fetch(`${server.endpoint}/${BUCKET}/lean/a.json`);
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);
    wrong.destroy();
    s3.destroy();
  });

  it("a retried fault costs the SDK's attempts, no more: the lean request is the first of them", async () => {
    const s3 = client(server.endpoint, { maxAttempts: 2 });
    const lean = store(s3, { maxAttempts: 2 });
    await server.setFault("slowdown");
    await assert.rejects(lean.get("lean/a.json"), /S3 answered 503 SlowDown to s3:GetObject s3:\/\/monitoring-bucket\/lean\/a.json after 2 attempts/);
    const attempts = server.requests();
    assert.deepEqual(attempts.map(isLean), [true, false]);
    assert.equal(attempts[1]?.headers["amz-sdk-request"], "attempt=2; max=2");
    await server.setFault("slowdown", { times: 1 });
    assert.equal((await lean.get("lean/a.json"))?.body, "{\"a\":1}", "a fault that clears is retried by the SDK");
    lean.destroy();
    s3.destroy();
  });

  it("lean: false sends every request through the SDK", async () => {
    const s3 = client(server.endpoint);
    const sdkOnly = store(s3, { lean: false });
    await sdkOnly.put("lean/sdk.json", "{}");
    assert.equal((await sdkOnly.get("lean/sdk.json"))?.body, "{}");
    assert.ok(server.requests().every((request) => !isLean(request)));
    s3.destroy();
  });

  it("the sink's leanRequests: false sends every request through the SDK", async () => {
    const sink = bareSink(server, { bucket: BUCKET, prefix: "sdk-only", leanRequests: false });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    await sink.stop();
    const requests = server.requests();
    assert.ok(requests.length >= 5 && requests.every((request) => !isLean(request)));
  });

  it("addresses the bucket in the host name (virtual-hosted style) when the client is not path style", async () => {
    const agent = new Agent({ keepAlive: true, lookup: toLoopback } as AgentOptions);
    const endpoint = `http://s3.test.internal:${server.port}`;
    const s3 = client(endpoint, { forcePathStyle: false, agent });
    const virtual = store(s3, { endpoint, agent });
    await virtual.put("virtual/a b.json", "{}", { contentType: "application/json" });
    assert.equal((await virtual.get("virtual/a b.json"))?.body, "{}");
    assert.deepEqual(await listAll(virtual, "virtual/"), ["virtual/a b.json"]);
    const requests = server.requests();
    assert.equal(requests.length, 3);
    for (const request of requests) {
      assert.ok(isLean(request));
      assert.equal(request.headers.host, `${BUCKET}.s3.test.internal:${server.port}`);
      assert.equal(request.bucket, BUCKET);
    }
    assert.deepEqual(requests.map((request) => request.rawUrl), ["/virtual/a%20b.json", "/virtual/a%20b.json", "/?list-type=2&prefix=virtual%2F"]);
    virtual.destroy();
    s3.destroy();
    agent.destroy();
  });

  it("sends SSE-KMS, content type, If-None-Match and If-Match as the SDK does, and maps failed conditions", async () => {
    const s3 = client(server.endpoint);
    const encrypted = store(s3, { sse: "aws:kms", kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/abc" });
    const { version } = await encrypted.put("lean/sse.json", "{}", { ifNoneMatch: "*", contentType: "application/json" });
    await assert.rejects(encrypted.put("lean/sse.json", "{}", { ifNoneMatch: "*" }), { name: "PreconditionFailedError", condition: "ifNoneMatch" });
    await encrypted.put("lean/sse.json", "{\"v\":2}", { ifMatch: version, contentType: "application/json" });
    await assert.rejects(encrypted.put("lean/sse.json", "{}", { ifMatch: version }), { name: "PreconditionFailedError", condition: "ifMatch" });
    await assert.rejects(encrypted.put("lean/none.json", "{}", { ifMatch: version }), { name: "PreconditionFailedError", condition: "ifMatch" });
    const puts = server.requests();
    assert.equal(puts.length, 5);
    assert.ok(puts.every(isLean), "failed conditions are the lean path's own answers, not the SDK's");
    for (const put of puts) {
      assert.equal(put.headers["x-amz-server-side-encryption"], "aws:kms");
      assert.equal(put.headers["x-amz-server-side-encryption-aws-kms-key-id"], "arn:aws:kms:us-east-1:111122223333:key/abc");
      assert.match(String(put.headers.authorization), /SignedHeaders=[^,]*x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id/);
    }
    assert.deepEqual(puts.map((put) => [put.headers["if-none-match"], put.headers["if-match"]]), [["*", undefined], ["*", undefined], [undefined, version], [undefined, version], [undefined, version]]);
    assert.equal(server.objectInfo(BUCKET, "lean/sse.json")?.contentType, "application/json");
    encrypted.destroy();
    s3.destroy();
  });

  it("a prefix with spaces, unicode and '+' is encoded once, signed and read back as written", async () => {
    const prefix = "fleet a/ü+1 (eu)";
    const sink = bareSink(server, { bucket: BUCKET, prefix });
    await sink.start();
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
    await sink.stop();
    const written = server.requests();
    assert.ok(written.length >= 5 && written.every(isLean), JSON.stringify(written.map((request) => [request.rawUrl, request.headers["user-agent"]])));
    for (const request of written) assert.ok(request.rawUrl.startsWith(`/${BUCKET}/fleet%20a/%C3%BC%2B1%20%28eu%29/`), request.rawUrl);
    const reader = readerStore(server);
    assert.deepEqual(await listAll(reader, `${prefix}/`), [`${prefix}/.resourcemonitor/probe-server01`, `${prefix}/history/server01/20250805_143022.json`, `${prefix}/list.json`, `${prefix}/server01.json`]);
    assert.equal(JSON.parse((await reader.get(`${prefix}/server01.json`))?.body ?? "{}").timestamp, "2025-08-05T14:30:22Z");
    const listing = server.requests().find((request) => request.rawUrl.includes("list-type=2"));
    assert.match(listing?.rawUrl ?? "", /prefix=fleet%20a%2F%C3%BC%2B1%20%28eu%29%2F/);
  });
});
