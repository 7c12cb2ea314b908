import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectFragment } from "@resourcemonitor/runtime/testing";
import plugin, { type ThermalFragment } from "../src/index.js";

const TESTCASES = join(import.meta.dirname, "testcases");

test("a machine without sensors: cpu.temperatures is [] and the info line is logged once over 3 ticks", async () => {
  const { fragment, logs } = await collectFragment(plugin, { sysfs: join(TESTCASES, "vm-no-sensors", "sys"), ticks: 3 });
  assert.deepEqual(fragment, { cpu: { temperatures: [] } });
  const said = logs.filter((line) => line.msg.startsWith("no temperature sensors found"));
  assert.equal(said.length, 1);
  assert.equal(said[0]?.level, "info");
});

test("through the runtime, each tick sees the new reading of a sensor", async () => {
  const root = await mkdtemp(join(tmpdir(), "rm-thermal-plugin-"));
  try {
    await cp(join(TESTCASES, "raspberry-pi-thermal-zone"), root, { recursive: true, verbatimSymlinks: true });
    const { fragment } = await collectFragment(plugin, {
      sysfs: join(root, "sys"),
      ticks: 2,
      beforeTick: async (index) => {
        if (index === 1) await writeFile(join(root, "sys/devices/virtual/thermal/thermal_zone0/temp"), "51121\n");
      },
    });
    assert.deepEqual(fragment, { cpu: { temperatures: [{ sensor: "cpu-thermal_thermal_zone0", temperature: 51.121, high: null, critical: 90 }] } });
  } finally {
    await rm(root, { recursive: true });
  }
});

test("options are checked: chips must be a list of non-empty names; unknown keys are refused", async () => {
  await assert.rejects(collectFragment(plugin, { options: { chips: "coretemp" } }), /chips/);
  await assert.rejects(collectFragment(plugin, { options: { chips: [""] } }), /chips/);
  await assert.rejects(collectFragment(plugin, { options: { chip: ["coretemp"] } }), /chip/);
});

test("this machine's real /sys gives a fragment that validates", async () => {
  const { fragment } = await collectFragment(plugin, { sysfs: "/sys" });
  const cpu = fragment.cpu as ThermalFragment;
  assert.ok(Array.isArray(cpu.temperatures));
  for (const entry of cpu.temperatures) {
    assert.ok(Number.isFinite(entry.temperature), entry.sensor);
    assert.ok(entry.sensor.length > 0);
  }
});
