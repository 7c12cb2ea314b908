import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chipFilter, discoverHwmonSensors, discoverSensors, numberedEntries, parseMillidegrees, tripThresholds } from "../src/index.js";

/** Writes `{ "relative/path": "content" }` under a fresh temporary root. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "rm-thermal-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

test("parseMillidegrees: kernel integers in millidegrees, anything else null", () => {
  assert.equal(parseMillidegrees("45000\n"), 45);
  assert.equal(parseMillidegrees("48625"), 48.625);
  assert.equal(parseMillidegrees("-62000\n"), -62);
  assert.equal(parseMillidegrees("0\n"), 0);
  assert.equal(parseMillidegrees("65261850\n"), 65261.85);
  for (const text of ["", "\n", "4.5", "abc", "45000 C", "0x10"]) assert.equal(parseMillidegrees(text), null, JSON.stringify(text));
});

test("numberedEntries sorts by the number, not the string, and drops other names", () => {
  const names = ["hwmon10", "hwmon2", "hwmon1", ".gitkeep", "hwmon", "hwmon3x", "xhwmon4", "hwmon0"];
  assert.deepEqual(
    numberedEntries(names, /^hwmon(\d+)$/).map((entry) => entry.name),
    ["hwmon0", "hwmon1", "hwmon2", "hwmon10"],
  );
});

test("hwmon: labels are trimmed, a blank label counts as none, bad or missing limits are null, temp10 after temp2", async () => {
  const chip = "sys/class/hwmon/hwmon0";
  const root = await tree({
    [`${chip}/name`]: "lm75 \n",
    [`${chip}/temp1_input`]: "21500\n",
    [`${chip}/temp1_label`]: "  inlet  \n",
    [`${chip}/temp1_max`]: "80000\n",
    [`${chip}/temp1_crit`]: "\n",
    [`${chip}/temp2_input`]: "22000\n",
    [`${chip}/temp2_label`]: "   \n",
    [`${chip}/temp2_max`]: "N/A\n",
    [`${chip}/temp2_crit`]: "90000\n",
    [`${chip}/temp10_input`]: "23000\n",
    [`${chip}/temp3_label`]: "label without input\n",
    [`${chip}/temp4_crit`]: "100000\n",
  });
  try {
    assert.deepEqual(discoverHwmonSensors(join(root, "sys"), null), [
      { sensor: "lm75_inlet", inputPath: join(root, chip, "temp1_input"), high: 80, critical: null },
      { sensor: "lm75_temp2", inputPath: join(root, chip, "temp2_input"), high: null, critical: 90 },
      { sensor: "lm75_temp10", inputPath: join(root, chip, "temp10_input"), high: null, critical: null },
    ]);
  } finally {
    await rm(root, { recursive: true });
  }
});

test("hwmon: temps in both the hwmon directory and its device parent are both found; device links are not followed further", async () => {
  const root = await tree({
    "sys/devices/platform/w83627hf.656/name": "w83627thf\n",
    "sys/devices/platform/w83627hf.656/temp1_input": "33000\n",
    "sys/devices/platform/w83627hf.656/hwmon/hwmon0/name": "w83627thf\n",
    "sys/devices/platform/w83627hf.656/hwmon/hwmon0/temp2_input": "35000\n",
  });
  try {
    await mkdir(join(root, "sys/class/hwmon"), { recursive: true });
    await symlink("../../devices/platform/w83627hf.656/hwmon/hwmon0", join(root, "sys/class/hwmon/hwmon0"));
    await symlink("../../../w83627hf.656", join(root, "sys/devices/platform/w83627hf.656/hwmon/hwmon0/device"));
    // A second back-link one level down: a walk that recursed through links would never end.
    await symlink("../..", join(root, "sys/devices/platform/w83627hf.656/hwmon/loop"));
    assert.deepEqual(
      discoverHwmonSensors(join(root, "sys"), null).map((sensor) => [sensor.sensor, sensor.inputPath]),
      [
        ["w83627thf_temp2", join(root, "sys/class/hwmon/hwmon0/temp2_input")],
        ["w83627thf_temp1", join(root, "sys/class/hwmon/hwmon0/device/temp1_input")],
      ],
    );
  } finally {
    await rm(root, { recursive: true });
  }
});

test("thermal zone trip points: first `critical` and first `hot`; passive, active and unreadable ones are not limits", async () => {
  const zone = "sys/class/thermal/thermal_zone0";
  const root = await tree({
    [`${zone}/trip_point_0_type`]: "active\n",
    [`${zone}/trip_point_0_temp`]: "60000\n",
    [`${zone}/trip_point_1_type`]: "hot\n",
    [`${zone}/trip_point_1_temp`]: "\n",
    [`${zone}/trip_point_2_type`]: "passive\n",
    [`${zone}/trip_point_2_temp`]: "85000\n",
    [`${zone}/trip_point_10_type`]: "critical\n",
    [`${zone}/trip_point_10_temp`]: "120000\n",
    [`${zone}/trip_point_3_type`]: "critical\n",
    [`${zone}/trip_point_3_temp`]: "105000\n",
    [`${zone}/trip_point_4_type`]: "hot\n",
    [`${zone}/trip_point_4_temp`]: "95000\n",
    [`${zone}/trip_point_5_temp`]: "99000\n",
  });
  try {
    assert.deepEqual(tripThresholds(join(root, zone)), { high: 95, critical: 105 });
    assert.deepEqual(tripThresholds(join(root, "sys/class/thermal/missing")), { high: null, critical: null });
  } finally {
    await rm(root, { recursive: true });
  }
});

test("thermal zones: a zone without a type is skipped; the sensor is <type>_thermal_zone<N>", async () => {
  const root = await tree({
    "sys/class/thermal/thermal_zone0/temp": "40000\n",
    "sys/class/thermal/thermal_zone1/type": "soc-thermal\n",
    "sys/class/thermal/thermal_zone1/temp": "41000\n",
    "sys/class/thermal/cooling_device0/type": "thermal-cpufreq-0\n",
  });
  try {
    assert.deepEqual(discoverSensors(join(root, "sys"), null), {
      source: "thermal_zone",
      sensors: [{ sensor: "soc-thermal_thermal_zone1", inputPath: join(root, "sys/class/thermal/thermal_zone1/temp"), high: null, critical: null }],
    });
    assert.deepEqual(discoverSensors(join(root, "nowhere"), null), { source: "none", sensors: [] });
  } finally {
    await rm(root, { recursive: true });
  }
});

test("chipFilter: empty means every chip", () => {
  assert.equal(chipFilter([]), null);
  assert.deepEqual(chipFilter(["coretemp", "k10temp"]), new Set(["coretemp", "k10temp"]));
});
