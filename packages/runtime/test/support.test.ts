import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepMerge, jsonPath, roundPercent, loadPlugin, packageNameFor, redactSecrets } from "../src/index.js";

test("redactSecrets hides secret-looking keys at any depth and keeps the rest", () => {
  const config = { bucket: "b", aws: { AWS_SECRET_ACCESS_KEY: "s3cr3t", AWS_ACCESS_KEY_ID: "AKIA", region: "eu" }, sinks: [{ name: "http", headers: { authorization: "Bearer x" }, token: null }] };
  assert.deepEqual(redactSecrets(config), {
    bucket: "b",
    aws: { AWS_SECRET_ACCESS_KEY: "[redacted]", AWS_ACCESS_KEY_ID: "[redacted]", region: "eu" },
    sinks: [{ name: "http", headers: { authorization: "[redacted]" }, token: null }],
  });
  assert.equal(config.aws.AWS_SECRET_ACCESS_KEY, "s3cr3t");
});

test("deepMerge merges objects and replaces arrays and scalars", () => {
  assert.deepEqual(deepMerge({ cpu: { a: 1, list: [1, 2] } }, { cpu: { b: 2, list: [3] } }), { cpu: { a: 1, b: 2, list: [3] } });
});

test("jsonPath turns JSON pointers into readable paths", () => {
  assert.equal(jsonPath(""), "$");
  assert.equal(jsonPath("/cpu/usage_per_core/3"), "$.cpu.usage_per_core[3]");
  assert.equal(jsonPath("/a~1b"), "$.a/b");
});

test("short plugin names map to first-party packages", () => {
  assert.equal(packageNameFor("collector", "cpu"), "@resourcemonitor/plugin-cpu");
  assert.equal(packageNameFor("sink", "s3"), "@resourcemonitor/sink-s3");
  assert.equal(packageNameFor("collector", "resourcemonitor-plugin-disk"), "resourcemonitor-plugin-disk");
  assert.equal(packageNameFor("collector", "@acme/rm-gpu"), "@acme/rm-gpu");
});

test("loadPlugin loads a plugin by path and refuses what is not one", async () => {
  const directory = await mkdtemp(join(tmpdir(), "rm-loader-"));
  await writeFile(join(directory, "ok.mjs"), `export default { apiVersion: 1, name: "ok", kind: "collector", description: "", optionsSchema: {}, apply() {} };`);
  await writeFile(join(directory, "not.mjs"), `export const x = 1;`);
  await writeFile(join(directory, "broken.mjs"), `export default {{;`);
  assert.equal((await loadPlugin("collector", "./ok.mjs", [directory])).name, "ok");
  await assert.rejects(loadPlugin("sink", "./ok.mjs", [directory]), /"\.\/ok\.mjs" is a collector plugin, listed as a sink/);
  await assert.rejects(loadPlugin("collector", "./not.mjs", [directory]), /does not export a resourcemonitor plugin/);
  await assert.rejects(loadPlugin("collector", "./broken.mjs", [directory]), /cannot load collector plugin "\.\/broken\.mjs"/);
  await assert.rejects(loadPlugin("collector", "nosuch", [directory]), /cannot find collector plugin "nosuch": no package @resourcemonitor\/plugin-nosuch/);
});

test("roundPercent is Python's round(x, 1)", () => {
  // Values checked against CPython 3: round(x, 1).
  const cases: [number, number][] = [
    [12.25, 12.2],
    [12.75, 12.8],
    [0.25, 0.2],
    [0.15, 0.1],
    [0.35, 0.3],
    [0.05, 0.1],
    [2.675, 2.7],
    [20.875, 20.9],
    [99.95, 100],
    [100, 100],
    [0, 0],
    [(1 / 3) * 100, 33.3],
  ];
  for (const [value, rounded] of cases) assert.equal(roundPercent(value), rounded, `round(${value}, 1)`);
});
