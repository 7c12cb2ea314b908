import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { collectFragment, testcases } from "@resourcemonitor/runtime/testing";
import plugin, { type Temperature } from "../src/index.js";

const TESTCASES = join(import.meta.dirname, "testcases");

/** The fixtures are only read, so the plugin reads them in place (symlinks and all). */
async function collectCase(name: string, options: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { fragment } = await collectFragment(plugin, { sysfs: join(TESTCASES, name, "sys"), options });
  return fragment;
}

async function expectedTemperatures(name: string): Promise<Temperature[]> {
  const expected = JSON.parse(await readFile(join(TESTCASES, name, "expected.json"), "utf8")) as { cpu: { temperatures: Temperature[] } };
  return expected.cpu.temperatures;
}

await testcases(TESTCASES, (_folder, name) => collectCase(name));

test("chips keeps only the named hwmon chips, in the same order", async () => {
  const all = await expectedTemperatures("amd-ryzen-k10temp");
  const fragment = await collectCase("amd-ryzen-k10temp", { chips: ["k10temp", "nvme"] });
  const kept = all.filter((entry) => entry.sensor.startsWith("k10temp_") || entry.sensor.startsWith("nvme_"));
  assert.equal(kept.length, 5);
  assert.deepEqual(fragment, { cpu: { temperatures: kept } });
});

test("chips naming only a thermal zone type uses the zone fallback (hwmon has none of those chips)", async () => {
  const fragment = await collectCase("intel-desktop-coretemp", { chips: ["x86_pkg_temp"] });
  // Its two trip points are `passive`, which are cooling steps, not limits.
  assert.deepEqual(fragment, { cpu: { temperatures: [{ sensor: "x86_pkg_temp_thermal_zone1", temperature: 41, high: null, critical: null }] } });
});

test("chips matching nothing gives []", async () => {
  assert.deepEqual(await collectCase("raspberry-pi-thermal-zone", { chips: ["coretemp"] }), { cpu: { temperatures: [] } });
});
