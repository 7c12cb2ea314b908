import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { listAll } from "@resourcemonitor/layout/testing";
import { Runtime } from "@resourcemonitor/runtime";
import { captureLogger, testSettings } from "@resourcemonitor/runtime/testing";
import type { S3TestServer } from "@resourcemonitor/s3-test-server";
import s3Sink from "../src/index.js";
import { BUCKET, SECRET, bareSink, documentAt, readerStore, startServer, useTestCredentials, type BareSink } from "./helpers.js";

useTestCredentials();
let server: S3TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

/** Starts a sink while the server is healthy (so the probe passes), then lets `fault` break it. */
async function startedSink(options: Record<string, unknown> = {}): Promise<BareSink> {
  const sink = bareSink(server, { bucket: BUCKET, ...options });
  await sink.start();
  return sink;
}

/** The error one write ends in, and how long it took. */
async function failedWrite(sink: BareSink): Promise<{ message: string; ms: number }> {
  const started = performance.now();
  try {
    await sink.write(documentAt("2025-08-05T14:30:22Z"));
  } catch (error) {
    return { message: (error as Error).message, ms: performance.now() - started };
  }
  throw new Error("the write succeeded");
}

describe("faults end in one clear error within the timeout, and the sink works again after", () => {
  beforeEach(() => server.setFault("none"));

  it("503 SlowDown on every attempt", async () => {
    const sink = await startedSink({ maxAttempts: 2 });
    await server.setFault("slowdown");
    const { message } = await failedWrite(sink);
    assert.equal(message, `S3 answered 503 SlowDown to s3:PutObject s3://${BUCKET}/history/server01/* after 2 attempts: it is throttling or unavailable; the sample is kept and retried`);
    await server.setFault("none");
    await sink.write(documentAt("2025-08-05T14:30:23Z"));
  });

  it("a 503 that clears within the attempts is retried by the SDK, not reported", async () => {
    const sink = await startedSink({ maxAttempts: 3 });
    await server.setFault("slowdown", { times: 2 });
    await sink.write(documentAt("2025-08-05T14:30:24Z"));
  });

  it("connection reset", async () => {
    const sink = await startedSink();
    await server.setFault("reset");
    const { message } = await failedWrite(sink);
    assert.match(message, /^cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(ECONNRESET\) for s3:PutObject history\/server01\/\*: check the endpoint \(AWS_ENDPOINT_URL_S3\), DNS and network/);
  });

  it("connection refused", async () => {
    const sink = await startedSink({ maxAttempts: 3 });
    await server.setFault("refuse");
    const { message, ms } = await failedWrite(sink);
    assert.match(message, /\(ECONNREFUSED\)/);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it("a frozen endpoint fails within requestTimeoutMs per attempt", async () => {
    const sink = await startedSink({ requestTimeoutMs: 400, maxAttempts: 2 });
    await server.setFault("freeze");
    const { message, ms } = await failedWrite(sink);
    assert.match(message, /did not answer s3:PutObject history\/server01\/\* within 400 ms \(2 attempts\)/);
    assert.ok(ms >= 750 && ms < 2 * 400 + 1500, `took ${ms} ms`);
  });

  it("access denied names the action and the key", async () => {
    const sink = await startedSink();
    await server.setFault("error", { error: { status: 403, code: "AccessDenied", message: "Access Denied" }, match: (request) => request.key === "list.json" });
    const { message } = await failedWrite(sink);
    assert.equal(message, `access denied: s3:GetObject on s3://${BUCKET}/list.json; allow s3:GetObject on that key for the agent's IAM user or role (deploy/iam-policy.json is the least-privilege policy)`);
  });

  it("a wrong region names the bucket's region from S3's redirect", async () => {
    const sink = await startedSink({ region: "us-east-1" });
    await server.setFault("error", { error: { status: 301, code: "PermanentRedirect", message: "The bucket you are attempting to access must be addressed using the specified endpoint.", headers: { "x-amz-bucket-region": "eu-west-1" } } });
    const { message } = await failedWrite(sink);
    assert.equal(message, `bucket "${BUCKET}" is not in region us-east-1 but in eu-west-1 (S3 answered PermanentRedirect): set AWS_DEFAULT_REGION=eu-west-1 (the s3 sink's region option)`);
  });

  it("a missing bucket: the start logs that the probe failed and keeps going; the write names the bucket", async () => {
    const sink = bareSink(server, { bucket: "no-such-bucket" });
    await sink.start();
    const warning = sink.lines.filter((line) => line.level === "warn");
    assert.equal(warning.length, 1);
    assert.match(warning[0]?.msg ?? "", /cannot probe s3:\/\/no-such-bucket\/ at http:\/\/127\.0\.0\.1:\d+ yet, will try again at the first upload: bucket "no-such-bucket" does not exist/);
    const { message } = await failedWrite(sink);
    assert.match(message, /^bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+: create it, or set S3_BUCKET_NAME/);
    server.createBucket("no-such-bucket");
    await sink.write(documentAt("2025-08-05T14:30:25Z"));
    assert.ok(sink.lines.some((line) => line.mode === "conditional"), "probed at the first upload once the bucket exists");
  });

  it("no credentials anywhere in the SDK's default chain", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_CONFIG_FILE: "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials", AWS_EC2_METADATA_DISABLED: "true" });
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]) Reflect.deleteProperty(process.env, name);
    try {
      const sink = bareSink(server, { bucket: BUCKET });
      await sink.start();
      const { message } = await failedWrite(sink);
      assert.match(message, /^no AWS credentials found \(the SDK's default chain: .*\): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in \/etc\/resourcemonitor\/config, or AWS_PROFILE, or give the machine a role$/);
    } finally {
      process.env = saved;
    }
  });

  it("no log line carries the secret key", async () => {
    const sink = bareSink(server, { bucket: BUCKET });
    await sink.start();
    await server.setFault("error", { error: { status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." } });
    const { message } = await failedWrite(sink);
    assert.match(message, /S3 rejected the AWS credentials \(SignatureDoesNotMatch\)/);
    assert.ok(!message.includes(SECRET));
    assert.ok(!JSON.stringify(sink.lines).includes(SECRET));
  });
});

describe("in the runtime", () => {
  it("a fault that lasts many ticks is logged once, and once more when it clears; nothing is lost", async () => {
    const { logger, lines } = captureLogger("info");
    const runtime = new Runtime({ settings: testSettings({ hostname: "server01" }), logger });
    runtime.use({ definition: s3Sink, options: { bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true, maxAttempts: 1, prefix: "runtime" } });
    await runtime.start();
    await server.setFault("slowdown");
    const documents = Array.from({ length: 5 }, (_, second) => documentAt(`2025-08-05T14:31:0${second}Z`));
    for (const document of documents) assert.equal((await runtime.emit(document)).sinks[0]?.ok, false);
    await server.setFault("none");
    const deadline = Date.now() + 10_000;
    while (runtime.health().sinks[0]?.state !== "up" && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
    await runtime.stop();
    const about503 = lines.filter((line) => line.msg.includes("503 SlowDown"));
    assert.equal(about503.length, 1, JSON.stringify(lines));
    assert.equal(about503[0]?.level, "warn");
    assert.equal(lines.filter((line) => line.msg.includes("recovered")).length, 1, JSON.stringify(lines));
    const stored = await listAll(readerStore(server), "runtime/history/server01/");
    assert.equal(stored.length, documents.length);
  });
});
