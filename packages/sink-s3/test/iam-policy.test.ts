import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { S3TestServer } from "@resourcemonitor/s3-test-server";
import { bareSink, documentAt, startServer, useTestCredentials } from "./helpers.js";

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

const POLICY = new URL("../../../deploy/iam-policy.json", import.meta.url);
const actions = (statement: Statement) => [statement.Action].flat();

/** The IAM action S3 checks for a request of the sink's (it makes no other kinds). */
function actionOf(request: { method: string; key: string | undefined }): string {
  if (request.method === "PUT" && request.key) return "s3:PutObject";
  if (request.method === "GET" && request.key) return "s3:GetObject";
  return `unexpected ${request.method} ${request.key ?? "(bucket)"}`;
}

useTestCredentials();

test("deploy/iam-policy.json allows exactly what the sink does, on the bucket's prefix, and nothing else", async () => {
  const policy = JSON.parse(await readFile(POLICY, "utf8")) as { Version: string; Statement: Statement[] };
  assert.equal(policy.Version, "2012-10-17");
  assert.ok(policy.Statement.every((statement) => statement.Effect === "Allow"));
  const [objects, listing] = policy.Statement;
  assert.deepEqual(actions(objects as Statement).sort(), ["s3:GetObject", "s3:PutObject"]);
  assert.equal(objects?.Resource, "arn:aws:s3:::YOUR-BUCKET/YOUR-PREFIX*");
  assert.deepEqual(actions(listing as Statement), ["s3:ListBucket"]);
  assert.deepEqual(listing?.Condition, { StringLike: { "s3:prefix": ["YOUR-PREFIX*"] } }, "listing is limited to the prefix too");
  assert.equal(policy.Statement.length, 2);

  let server: S3TestServer | undefined;
  try {
    server = await startServer();
    for (const conditional of [true, false]) {
      server.setConditional(conditional);
      const sink = bareSink(server, { prefix: `policy-${conditional}` });
      await sink.start();
      await sink.write(documentAt("2025-08-05T14:30:22Z"));
      await sink.stop();
    }
    const used = new Set(server.requests().map(actionOf));
    assert.deepEqual([...used].sort(), ["s3:GetObject", "s3:PutObject"], "the sink never lists, deletes or touches the bucket itself");
  } finally {
    await server?.close();
  }
});
