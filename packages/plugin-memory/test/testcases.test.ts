import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { collectFragment } from "@resourcemonitor/runtime/testing";
import plugin from "../src/index.js";

const CASES = fileURLToPath(new URL("./testcases/", import.meta.url));

for (const name of readdirSync(CASES, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)) {
  test(`testcase ${name}`, async () => {
    const expected = JSON.parse(readFileSync(join(CASES, name, "expected.json"), "utf8")) as unknown;
    const { fragment } = await collectFragment(plugin, { procfs: join(CASES, name, "proc"), sysfs: join(CASES, name, "sys") });
    assert.deepEqual(fragment, expected);
  });
}

test("the MemAvailable estimate is announced once at info level, not every tick", async () => {
  const { logs } = await collectFragment(plugin, { procfs: join(CASES, "centos6-no-memavailable", "proc"), ticks: 3 });
  assert.equal(logs.filter((line) => /no usable MemAvailable/.test(line.msg)).length, 1);
});

test("a missing /proc/meminfo fails the plugin's fragment (the runtime reports it) instead of inventing values", async () => {
  await assert.rejects(collectFragment(plugin, { procfs: "/nonexistent-procfs" }), /plugin memory: ENOENT/);
});

test("options: none are accepted", async () => {
  await assert.rejects(collectFragment(plugin, { options: { units: "kB" } }), /unknown property "units"/);
});

test("this machine's /proc/meminfo gives a valid fragment with used + available == total", async () => {
  const { fragment } = await collectFragment(plugin);
  const { virtual } = (fragment as { memory: { virtual: { total: number; used: number; available: number; free: number } } }).memory;
  assert.ok(virtual.total > 0);
  assert.equal(virtual.used + virtual.available, virtual.total);
  assert.ok(virtual.free <= virtual.total);
});
