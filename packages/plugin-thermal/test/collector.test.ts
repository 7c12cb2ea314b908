import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { captureLogger } from "@resourcemonitor/runtime/testing";
import { MIN_REDISCOVERY_GAP_MS, REDISCOVERY_INTERVAL_MS, ThermalCollector } from "../src/index.js";

const SECOND = 1000;

/** A fake monotonic clock the collector reads through its `now` parameter. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 0;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** A kernel-like hwmon chip: the class link, the device back-link, and the attributes. */
async function addChip(sys: string, hwmon: number, device: string, attributes: Record<string, string | number>): Promise<string> {
  const directory = join(sys, "devices/platform", device, "hwmon", `hwmon${hwmon}`);
  await mkdir(directory, { recursive: true });
  await mkdir(join(sys, "class/hwmon"), { recursive: true });
  await symlink(`../../devices/platform/${device}/hwmon/hwmon${hwmon}`, join(sys, "class/hwmon", `hwmon${hwmon}`));
  await symlink(`../../../${device}`, join(directory, "device"));
  for (const [name, value] of Object.entries(attributes)) await writeFile(join(directory, name), `${value}\n`);
  return directory;
}

async function withSys(body: (sys: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "rm-thermal-collector-"));
  try {
    await body(join(root, "sys"));
  } finally {
    await rm(root, { recursive: true });
  }
}

function sensorNames(fragment: { temperatures: { sensor: string }[] }): string[] {
  return fragment.temperatures.map((entry) => entry.sensor);
}

const CORETEMP = { name: "coretemp", temp1_label: "Package id 0", temp1_input: 50000, temp1_max: 80000, temp1_crit: 100000 };

test("each tick re-reads the inputs; the limits are read at discovery and again only at the next discovery", async () => {
  await withSys(async (sys) => {
    const chip = await addChip(sys, 0, "coretemp.0", CORETEMP);
    const clock = fakeClock();
    const collector = new ThermalCollector(sys, { chips: [] }, captureLogger().logger, clock.now);
    await collector.start();
    try {
      assert.deepEqual((await collector.read()).temperatures, [{ sensor: "coretemp_Package id 0", temperature: 50, high: 80, critical: 100 }]);
      await writeFile(join(chip, "temp1_input"), "57500\n");
      await writeFile(join(chip, "temp1_max"), "85000\n");
      clock.advance(REDISCOVERY_INTERVAL_MS - SECOND);
      assert.deepEqual((await collector.read()).temperatures, [{ sensor: "coretemp_Package id 0", temperature: 57.5, high: 80, critical: 100 }]);
      clock.advance(SECOND);
      assert.deepEqual((await collector.read()).temperatures, [{ sensor: "coretemp_Package id 0", temperature: 57.5, high: 85, critical: 100 }]);
    } finally {
      await collector.stop();
    }
  });
});

test("an input that cannot be read is left out of that tick (not 0) and is back once readable; no rediscovery for it", async () => {
  await withSys(async (sys) => {
    const chip = await addChip(sys, 0, "coretemp.0", { ...CORETEMP, temp2_label: "Core 0", temp2_input: 47000 });
    const clock = fakeClock();
    const collector = new ThermalCollector(sys, { chips: [] }, captureLogger().logger, clock.now);
    await collector.start();
    try {
      await truncate(join(chip, "temp2_input"));
      assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0"]);
      // The file is still there, so this is not a device that went away: a chip added now waits for the 5-minute discovery.
      await addChip(sys, 1, "nct6775.656", { name: "nct6798", temp1_label: "SYSTIN", temp1_input: 30000 });
      await writeFile(join(chip, "temp2_input"), "46000\n");
      clock.advance(MIN_REDISCOVERY_GAP_MS);
      const fragment = await collector.read();
      assert.deepEqual(sensorNames(fragment), ["coretemp_Package id 0", "coretemp_Core 0"]);
      assert.equal(fragment.temperatures[1]?.temperature, 46);
      clock.advance(REDISCOVERY_INTERVAL_MS);
      assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0", "coretemp_Core 0", "nct6798_SYSTIN"]);
    } finally {
      await collector.stop();
    }
  });
});

test("a sensor whose file went away triggers discovery on the next tick after the minimum gap (hotplug)", async () => {
  await withSys(async (sys) => {
    await addChip(sys, 0, "coretemp.0", CORETEMP);
    const nvme = await addChip(sys, 1, "nvme.0", { name: "nvme", temp1_label: "Composite", temp1_input: 38850 });
    const clock = fakeClock();
    const { logger, lines } = captureLogger();
    const collector = new ThermalCollector(sys, { chips: [] }, logger, clock.now);
    await collector.start();
    try {
      assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0", "nvme_Composite"]);
      // Unplugged: sysfs reads fail and the files vanish. A tmpfs file read through an open descriptor would
      // still give its old bytes after unlink, so empty it first to make the read fail as sysfs would.
      await truncate(join(nvme, "temp1_input"));
      await rm(join(sys, "class/hwmon/hwmon1"));
      await rm(join(sys, "devices/platform/nvme.0"), { recursive: true });
      await addChip(sys, 2, "nvme.1", { name: "nvme", temp1_label: "Composite", temp1_input: 41850 });
      clock.advance(SECOND);
      assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0"]);
      clock.advance(SECOND);
      assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0"], "not before the minimum gap");
      clock.advance(MIN_REDISCOVERY_GAP_MS);
      const fragment = await collector.read();
      assert.deepEqual(fragment.temperatures.at(-1), { sensor: "nvme_Composite", temperature: 41.85, high: null, critical: null });
      assert.equal(lines.filter((line) => line.msg === "temperature sensors changed").length, 1);
    } finally {
      await collector.stop();
    }
  });
});

test("no sensors: one info line, even across rediscoveries", async () => {
  await withSys(async (sys) => {
    await mkdir(join(sys, "class/hwmon"), { recursive: true });
    const clock = fakeClock();
    const { logger, lines } = captureLogger();
    const collector = new ThermalCollector(sys, { chips: [] }, logger, clock.now);
    await collector.start();
    for (let tick = 0; tick < 3; tick += 1) {
      assert.deepEqual(await collector.read(), { temperatures: [] });
      clock.advance(REDISCOVERY_INTERVAL_MS + SECOND);
    }
    await collector.stop();
    const said = lines.filter((line) => line.msg.startsWith("no temperature sensors found"));
    assert.equal(said.length, 1);
    assert.equal(said[0]?.level, "info");
  });
});

test("input files stay open between ticks and are all closed on stop and on rediscovery", async () => {
  const openCount = () => readdirSync("/proc/self/fd").length;
  await withSys(async (sys) => {
    await addChip(sys, 0, "coretemp.0", { ...CORETEMP, temp2_label: "Core 0", temp2_input: 47000, temp3_label: "Core 1", temp3_input: 48000 });
    const clock = fakeClock();
    const before = openCount();
    const collector = new ThermalCollector(sys, { chips: [] }, captureLogger().logger, clock.now);
    await collector.start();
    assert.equal(openCount() - before, 3);
    await collector.read();
    clock.advance(REDISCOVERY_INTERVAL_MS);
    await collector.read();
    assert.equal(openCount() - before, 3);
    await collector.stop();
    assert.equal(openCount(), before);
  });
});

test("read() before start() discovers first", async () => {
  await withSys(async (sys) => {
    await mkdir(dirname(await addChip(sys, 0, "coretemp.0", CORETEMP)), { recursive: true });
    const collector = new ThermalCollector(sys, { chips: ["coretemp"] }, captureLogger().logger);
    assert.deepEqual(sensorNames(await collector.read()), ["coretemp_Package id 0"]);
    await collector.stop();
  });
});
