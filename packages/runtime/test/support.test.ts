import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mergeTaking } from "../src/merge.js";
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

test("deepMerge copies the source's objects: a later merge into the target leaves the source as it was", () => {
  const source = { cpu: { usage: { total: 1 } } };
  const target = deepMerge({}, source);
  deepMerge(target, { cpu: { usage: { idle: 2 } } });
  assert.deepEqual(source, { cpu: { usage: { total: 1 } } });
  assert.deepEqual(target, { cpu: { usage: { total: 1, idle: 2 } } });
});

test("mergeTaking takes the sources' objects, and merges into copies where two sources share a field", () => {
  const cpu = { cpu: { usage_percent: 5, frequency: { current: 1 } } };
  const thermal = { cpu: { temperatures: [] as unknown[], frequency: { max: 2 } } };
  const document: Record<string, unknown> = {};
  const replaced: string[] = [];
  const owned = new Set<object>();
  mergeTaking(document, cpu, owned, (key) => replaced.push(key));
  assert.equal(document.cpu, cpu.cpu); // taken, not copied
  mergeTaking(document, thermal, owned, (key) => replaced.push(key));
  mergeTaking(document, { cpu: { usage_percent: 6 } }, owned, (key) => replaced.push(key));
  assert.deepEqual(document, { cpu: { usage_percent: 6, frequency: { current: 1, max: 2 }, temperatures: [] } });
  assert.equal((document.cpu as { temperatures: unknown }).temperatures, thermal.cpu.temperatures);
  assert.deepEqual(cpu, { cpu: { usage_percent: 5, frequency: { current: 1 } } });
  assert.deepEqual(thermal, { cpu: { temperatures: [], frequency: { max: 2 } } });
  assert.deepEqual(replaced, ["usage_percent"]);
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
