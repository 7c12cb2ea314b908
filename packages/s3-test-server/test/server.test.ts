import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startS3Server, type S3TestServer } from "../src/index.js";

const BUCKET = "test-bucket";

function client(server: S3TestServer, requestTimeout = 2_000, maxAttempts = 1): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    requestHandler: new NodeHttpHandler({ requestTimeout, connectionTimeout: 1_000, throwOnRequestTimeout: true }),
  });
}

const put = (s3: S3Client, Key: string, Body: string, extra: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ContentType: "application/json", ...extra }));

async function statusOf(work: Promise<unknown>): Promise<number | string> {
  try {
    await work;
    return 200;
  } catch (error) {
    if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode ?? error.name;
    return (error as NodeJS.ErrnoException).code ?? (error as Error).name;
  }
}

describe("startS3Server", () => {
  let server: S3TestServer;
  let s3: S3Client;
  before(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    s3 = client(server);
  });
  after(async () => {
    s3.destroy();
    await server.close();
  });
  beforeEach(async () => {
    await server.setFault("none");
    server.setConditional(true);
    server.resetCounts();
  });

  it("listens on 127.0.0.1 and stores, reads and lists objects with their content type", async () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const { ETag } = await put(s3, "a/b.json", '{"x":1}');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "a/b.json" }));
    assert.equal(await got.Body?.transformToString(), '{"x":1}');
    assert.equal(got.ETag, ETag);
    assert.equal(server.objectInfo(BUCKET, "a/b.json")?.contentType, "application/json");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "a/" }));
    assert.deepEqual(listed.Contents?.map((object) => object.Key), ["a/b.json"]);
    assert.equal(server.objectInfo(BUCKET, "missing"), undefined);
  });

  it("lists in UTF-8 byte order as S3 does (fauxqs alone sorts by locale)", async () => {
    for (const key of ["order/a_1.json", "order/a.json", "order/B.json", "order/é.json"]) await put(s3, key, "{}");
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "order/", MaxKeys: 1, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(keys, ["order/B.json", "order/a.json", "order/a_1.json", "order/é.json"]);
  });

  it("gives PutObject AWS's conditional semantics: 412 on a failed If-None-Match or If-Match, 404 on If-Match of a missing key", async () => {
    const first = await put(s3, "cas.json", "one", { IfNoneMatch: "*" });
    assert.equal(await statusOf(put(s3, "cas.json", "two", { IfNoneMatch: "*" })), 412);
    const second = await put(s3, "cas.json", "two", { IfMatch: first.ETag ?? "" });
    assert.equal(await statusOf(put(s3, "cas.json", "three", { IfMatch: first.ETag ?? "" })), 412);
    assert.equal(await statusOf(put(s3, "nothing.json", "x", { IfMatch: second.ETag ?? "" })), 404);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "cas.json" }));
    assert.equal(await got.Body?.transformToString(), "two");
  });

  it("of concurrent If-Match writers from one ETag exactly one wins", async () => {
    const { ETag } = await put(s3, "race.json", "start");
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => statusOf(put(s3, "race.json", `writer ${index}`, { IfMatch: ETag ?? "" }))));
    assert.equal(results.filter((status) => status === 200).length, 1, JSON.stringify(results));
    assert.equal(results.filter((status) => status === 412).length, 7, JSON.stringify(results));
  });

  it("with conditional: false ignores the headers, as some stores do", async () => {
    server.setConditional(false);
    await put(s3, "ignored.json", "one", { IfNoneMatch: "*" });
    assert.equal(await statusOf(put(s3, "ignored.json", "two", { IfNoneMatch: "*" })), 200);
  });

  it("counts requests by method and the bytes uploaded, and records their headers", async () => {
    await put(s3, "count.json", "12345");
    await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "count.json" }));
    const counts = server.counts();
    assert.deepEqual(counts.byMethod, { PUT: 1, GET: 1 });
    assert.equal(counts.total, 2);
    assert.ok(counts.bytesIn >= 5, String(counts.bytesIn));
    const [putRequest] = server.requests();
    assert.equal(putRequest?.key, "count.json");
    assert.equal(putRequest?.bucket, BUCKET);
    assert.match(String(putRequest?.headers.authorization), /Credential=test\/\d{8}\/us-east-1\/s3\//);
  });

  it("injects 503 SlowDown, a chosen S3 error, and clears a fault after `times`", async () => {
    await server.setFault("slowdown");
    assert.equal(await statusOf(put(s3, "x.json", "x")), 503);
    await server.setFault("error", { error: { status: 403, code: "AccessDenied", message: "Access Denied" }, match: (request) => request.method === "GET" });
    assert.equal(await statusOf(put(s3, "x.json", "x")), 200);
    assert.equal(await statusOf(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "x.json" }))), 403);
    await server.setFault("slowdown", { times: 1 });
    assert.equal(await statusOf(put(s3, "y.json", "y")), 503);
    assert.equal(await statusOf(put(s3, "y.json", "y")), 200);
  });

  it("resets connections, refuses them, and freezes without answering, keeping stored objects", async () => {
    await put(s3, "kept.json", "kept");
    await server.setFault("reset");
    assert.equal(await statusOf(put(s3, "x.json", "x")), "ECONNRESET");
    await server.setFault("refuse");
    assert.equal(await statusOf(put(s3, "x.json", "x")), "ECONNREFUSED");
    await server.setFault("freeze");
    const started = Date.now();
    const frozen = client(server, 300);
    assert.equal(await statusOf(frozen.send(new GetObjectCommand({ Bucket: BUCKET, Key: "kept.json" }))), "ETIMEDOUT");
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    frozen.destroy();
    await server.setFault("none");
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "kept.json" }));
    assert.equal(await got.Body?.transformToString(), "kept");
  });

  it("adds latency to every request", async () => {
    server.setLatency([120, 150]);
    const started = Date.now();
    await put(s3, "slow.json", "x");
    server.setLatency(undefined);
    assert.ok(Date.now() - started >= 115, `took ${Date.now() - started} ms`);
  });
});

describe("signature checks", () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server({ buckets: [BUCKET], signatures: { test: "test" } });
  });
  after(() => server.close());

  const signedBy = (accessKeyId: string, secretAccessKey: string) =>
    new S3Client({ endpoint: server.endpoint, region: "eu-west-1", forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey } });

  /** A PutObject changed by `tamper` after the SDK signed it. */
  function tamperedPut(s3: S3Client, tamper: (request: { headers: Record<string, string>; body: unknown }) => void) {
    const command = new PutObjectCommand({ Bucket: BUCKET, Key: "tampered.json", Body: "{}", ContentType: "application/json" });
    const middleware = (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
      tamper(args.request as { headers: Record<string, string>; body: unknown });
      return next(args);
    };
    command.middlewareStack.addRelativeTo(
      middleware as unknown as Parameters<typeof command.middlewareStack.addRelativeTo>[0],
      { relation: "after", toMiddleware: "httpSigningMiddleware", name: "tamperAfterSigning" },
    );
    return s3.send(command);
  }

  it("serves requests signed with a known key, keys needing URI encoding included", async () => {
    const s3 = signedBy("test", "test");
    const key = "a b/ü+&'()!*~=?.json";
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "{}", ContentType: "application/json" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(await got.Body?.transformToString(), "{}");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "a b/", StartAfter: "a b/ ", MaxKeys: 5 }));
    assert.deepEqual(listed.Contents?.map((object) => object.Key), [key]);
    s3.destroy();
  });

  it("answers S3's errors to a wrong secret, an unknown key, an unsigned request and a changed request", async () => {
    const wrongSecret = signedBy("test", "other");
    const unknownKey = signedBy("AKIAUNKNOWN", "test");
    const right = signedBy("test", "test");
    const codeOf = (work: Promise<unknown>) => work.then(() => "served", (error: Error) => error.name);
    assert.equal(await codeOf(put(wrongSecret, "x.json", "{}")), "SignatureDoesNotMatch");
    assert.equal(await codeOf(put(unknownKey, "x.json", "{}")), "InvalidAccessKeyId");
    assert.equal((await fetch(`${server.endpoint}/${BUCKET}/x.json`)).status, 403);
    assert.equal(await codeOf(tamperedPut(right, (request) => void (request.headers["content-type"] = "text/plain"))), "SignatureDoesNotMatch");
    assert.equal(await codeOf(tamperedPut(right, (request) => void (request.body = "[]"))), "XAmzContentSHA256Mismatch");
    assert.equal(server.objectInfo(BUCKET, "x.json"), undefined);
    assert.equal(server.objectInfo(BUCKET, "tampered.json"), undefined);
    server.setSignatures(undefined);
    assert.equal(await codeOf(put(wrongSecret, "x.json", "{}")), "served", "checks off: any request is served");
    for (const s3 of [wrongSecret, unknownKey, right]) s3.destroy();
  });
});
