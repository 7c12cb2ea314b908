import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { objectStoreConformance, listAll } from "@resourcemonitor/layout/testing";
import type { S3TestServer } from "@resourcemonitor/s3-test-server";
import { createS3Store } from "../src/index.js";
import { readerClient, startServer, useTestCredentials } from "./helpers.js";

useTestCredentials();
let server: S3TestServer;
let buckets = 0;
before(async () => {
  server = await startServer();
});
after(() => server.close());

// The same suite sink-file's directory store passes, here against a real S3 endpoint: a fresh bucket per
// test, and pages of 3 keys so every listing paginates.
objectStoreConformance("S3 (fauxqs with AWS conditional writes)", async () => {
  const bucket = `conformance-${(buckets += 1)}`;
  server.createBucket(bucket);
  const client = readerClient(server);
  return { store: createS3Store(client, { bucket, pageSize: 3 }), cleanup: async () => client.destroy() };
});

test("list pages through ListObjectsV2 with continuation tokens, StartAfter only on the first page", async () => {
  server.createBucket("paging");
  const client = readerClient(server);
  const store = createS3Store(client, { bucket: "paging", pageSize: 2 });
  const keys = Array.from({ length: 7 }, (_, index) => `history/h/2025080${index}_000000.json`);
  for (const key of keys) await store.put(key, "{}");
  server.resetCounts();
  assert.deepEqual(await listAll(store, "history/h/", keys[1]), keys.slice(2));
  const lists = server.requests().filter((request) => request.method === "GET" && request.url.includes("list-type=2"));
  assert.equal(lists.length, 3, "5 keys in pages of 2");
  assert.match(lists[0]?.url ?? "", /start-after=/);
  for (const later of lists.slice(1)) {
    assert.match(later.url, /continuation-token=/);
    assert.doesNotMatch(later.url, /start-after=/);
  }
  client.destroy();
});

test("the description names the bucket", () => {
  assert.equal(createS3Store(readerClient(server), { bucket: "b-1" }).description, "s3://b-1");
});
