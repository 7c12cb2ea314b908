import { test } from "node:test";
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listAll } from "@resourcemonitor/layout/testing";
import { startS3Server } from "@resourcemonitor/s3-test-server";
import { createS3Client, createS3Store, resolveOptions } from "@resourcemonitor/sink-s3";
import { runCli, startCli, tempDir, waitFor } from "./cli-helpers.js";

const BUCKET = "agent-bucket";
const HOST = "fixture-host";
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "agent-s3-test-secret", AWS_EC2_METADATA_DISABLED: "true" };
const TESTCASES = fileURLToPath(new URL("../../", import.meta.url));

/** A /proc and /sys that never change (the cpu and memory plugins' own fixtures), so every sample is the same document but for its time. */
async function fixtureRoot(): Promise<string> {
  const root = await tempDir("rm-agent-s3-fixture-");
  await cp(join(TESTCASES, "plugin-cpu/test/testcases/cloud-vm-2vcpu/proc"), join(root, "proc"), { recursive: true });
  await cp(join(TESTCASES, "plugin-cpu/test/testcases/cloud-vm-2vcpu/sys"), join(root, "sys"), { recursive: true });
  await cp(join(TESTCASES, "plugin-memory/test/testcases/arm64-board-no-swap/proc/meminfo"), join(root, "proc", "meminfo"));
  return root;
}

test("with S3_BUCKET_NAME set, `run` writes the layout to the bucket: byte for byte the documents `once` prints, read back page by page", { timeout: 60_000 }, async () => {
  const server = await startS3Server({ buckets: [BUCKET] });
  Object.assign(process.env, CREDENTIALS);
  const client = createS3Client(resolveOptions({ bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true }, {}));
  try {
    const root = await fixtureRoot();
    const cwd = await tempDir();
    const flags = ["--hostname", HOST, "--procfs", join(root, "proc"), "--sysfs", join(root, "sys")];
    const env = { ...CREDENTIALS, S3_BUCKET_NAME: BUCKET, AWS_ENDPOINT_URL_S3: server.endpoint, S3_FORCE_PATH_STYLE: "true" };

    const once = await runCli(["once", ...flags], { cwd, env });
    assert.equal(once.code, 0, once.stderr);
    const printed = JSON.parse(once.stdout) as Record<string, unknown>;

    const agent = startCli(["run", "--interval", "1", ...flags, "--state-dir", join(cwd, "state")], { cwd, env });
    const store = createS3Store(client, { bucket: BUCKET, pageSize: 2 });
    const history = await waitFor(async () => ((keys) => (keys.length >= 4 ? keys : undefined))(await listAll(store, `history/${HOST}/`)), 20_000, "four history documents");
    agent.child.kill("SIGTERM");
    const { code, stderr } = await agent.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"sinks":\["s3"\]/, "the default preset chose the s3 sink");
    assert.match(stderr, /"mode":"conditional"/);
    assert.doesNotMatch(stderr, new RegExp(CREDENTIALS.AWS_SECRET_ACCESS_KEY));

    const keys = await listAll(store, "");
    assert.deepEqual(keys.filter((key) => !key.startsWith("history/")), [`.resourcemonitor/probe-${HOST}`, `${HOST}.json`, "list.json"]);
    for (const key of history) {
      const stored = (await store.get(key))?.body ?? "";
      const timestamp = (JSON.parse(stored) as { timestamp: string }).timestamp;
      assert.equal(key, `history/${HOST}/${timestamp.replace(/[-:]/g, "").replace("T", "_").slice(0, 15)}.json`);
      assert.equal(stored, JSON.stringify({ ...printed, timestamp }), `${key} is what once printed, but for the time`);
    }
    assert.equal((await store.get(`${HOST}.json`))?.body, (await store.get(keys.filter((key) => key.startsWith("history/")).at(-1) ?? ""))?.body);
    assert.deepEqual(Object.keys(JSON.parse((await store.get("list.json"))?.body ?? "{}") as object), [HOST]);
    assert.equal(server.objectInfo(BUCKET, `${HOST}.json`)?.contentType, "application/json");
  } finally {
    client.destroy();
    await server.close();
  }
});
