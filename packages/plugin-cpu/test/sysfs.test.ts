import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { discoverFrequencySource, FrequencyReader } from "../src/frequency.js";
import { KernelFile } from "@resourcemonitor/runtime";
import { readLeadingLines } from "../src/read.js";
import { physicalCoresFromSysfs } from "../src/topology.js";

/** Writes `{ "relative/path": "content" }` under a fresh temporary root. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "rm-cpu-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const CPU = "sys/devices/system/cpu";

test("readLeadingLines returns the leading cpu lines whatever the chunk size, and never the intr line", async () => {
  const cpuLines = "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 0 0 0 0 0 0 0 0 0 0\n";
  const root = await tree({ stat: `${cpuLines}intr 9 ${"0 ".repeat(5000)}\nctxt 1\n`, short: "cpu 1 2 3 4", ci: "cpi 1\n" });
  for (const chunkSize of [1, 2, 3, 4, 5, 7, 26, 27, 64, 16_384]) {
    assert.equal(readLeadingLines(new KernelFile(join(root, "stat"), chunkSize), "cpu"), cpuLines, `chunk ${chunkSize}`);
  }
  const stat = new KernelFile(join(root, "stat"));
  assert.equal(readLeadingLines(stat, "cpu"), cpuLines);
  assert.equal(readLeadingLines(stat, "cpu"), cpuLines, "read again through the same descriptor");
  assert.equal(readLeadingLines(new KernelFile(join(root, "short"), 3), "cpu"), "cpu 1 2 3 4");
  assert.equal(readLeadingLines(new KernelFile(join(root, "ci"), 2), "cpu"), "");
  assert.equal(readLeadingLines(new KernelFile(join(root, "missing")), "cpu"), null);
  await rm(root, { recursive: true });
});

test("topology: core_cpus_list before thread_siblings_list, counted as distinct lists", async () => {
  const root = await tree({
    [`${CPU}/cpu0/topology/core_cpus_list`]: "0-1\n",
    [`${CPU}/cpu1/topology/core_cpus_list`]: "0-1\n",
    [`${CPU}/cpu2/topology/core_cpus_list`]: "2-3\n",
    [`${CPU}/cpu3/topology/core_cpus_list`]: "2-3\n",
    [`${CPU}/cpu0/topology/thread_siblings_list`]: "0\n",
    [`${CPU}/cpu1/topology/thread_siblings_list`]: "1\n",
    [`${CPU}/cpu2/topology/thread_siblings_list`]: "2\n",
  });
  assert.equal(physicalCoresFromSysfs(join(root, "sys")), 2);
  await rm(root, { recursive: true });
});

test("topology: (physical_package_id, core_id) pairs when there are no sibling lists (core ids repeat per package)", async () => {
  const files: Record<string, string> = {};
  for (const [cpu, packageId, coreId] of [[0, 0, 0], [1, 0, 1], [2, 1, 0], [3, 1, 1], [4, 0, 0]]) {
    files[`${CPU}/cpu${cpu}/topology/physical_package_id`] = `${packageId}\n`;
    files[`${CPU}/cpu${cpu}/topology/core_id`] = `${coreId}\n`;
  }
  const root = await tree(files);
  assert.equal(physicalCoresFromSysfs(join(root, "sys")), 4);
  assert.equal(physicalCoresFromSysfs(join(root, "nowhere")), null);
  await rm(root, { recursive: true });
});

function policy(name: string, currentKhz: number, minKhz: number, maxKhz: number, affected?: string): Record<string, string> {
  const base = `${CPU}/cpufreq/${name}`;
  const files: Record<string, string> = {
    [`${base}/scaling_cur_freq`]: `${currentKhz}\n`,
    [`${base}/scaling_min_freq`]: `${minKhz}\n`,
    [`${base}/scaling_max_freq`]: `${maxKhz}\n`,
  };
  if (affected !== undefined) files[`${base}/affected_cpus`] = `${affected}\n`;
  return files;
}

test("frequency: policies weighted by affected_cpus; an inactive policy (no affected CPUs) is left out", async () => {
  const root = await tree({
    ...policy("policy0", 1_000_000, 500_000, 2_000_000, "0 1 2"),
    ...policy("policy3", 2_000_000, 800_000, 3_000_000, "3"),
    ...policy("policy4", 9_000_000, 9_000_000, 9_000_000, ""),
  });
  const source = discoverFrequencySource(join(root, "proc"), join(root, "sys"));
  assert.equal(source.kind, "cpufreq");
  // current (3 × 1000 + 1 × 2000) / 4 = 1250; min (3 × 500 + 800) / 4 = 575; max (3 × 2000 + 3000) / 4 = 2250.
  assert.deepEqual(new FrequencyReader(source).read(), { current: 1250, min: 575, max: 2250 });
  await rm(root, { recursive: true });
});

test("frequency: a policy without affected_cpus counts as one CPU; a missing limit makes that limit null", async () => {
  const root = await tree({ ...policy("policy0", 1_200_000, 400_000, 3_000_000), ...policy("policy1", 1_300_001, 400_000, 3_000_000) });
  await rm(join(root, CPU, "cpufreq/policy1/scaling_max_freq"));
  const reader = new FrequencyReader(discoverFrequencySource(join(root, "proc"), join(root, "sys")));
  // (1200000 + 1300001) / 2 = 1250000.5 kHz, rounded to whole kHz: 1250.001 MHz.
  assert.deepEqual(reader.read(), { current: 1250.001, min: 400, max: null });
  await rm(root, { recursive: true });
});

test("frequency: per-CPU cpufreq directories when there are no policies; CPUs linked to one directory count once each", async () => {
  const root = await tree({
    [`${CPU}/cpu0/cpufreq/scaling_cur_freq`]: "1000000\n",
    [`${CPU}/cpu0/cpufreq/scaling_min_freq`]: "1000000\n",
    [`${CPU}/cpu0/cpufreq/scaling_max_freq`]: "3000000\n",
    [`${CPU}/cpu2/cpufreq/scaling_cur_freq`]: "2500000\n",
    [`${CPU}/cpu2/cpufreq/scaling_min_freq`]: "1000000\n",
    [`${CPU}/cpu2/cpufreq/scaling_max_freq`]: "2500000\n",
  });
  await mkdir(join(root, CPU, "cpu1"));
  await symlink("../cpu0/cpufreq", join(root, CPU, "cpu1/cpufreq"));
  const source = discoverFrequencySource(join(root, "proc"), join(root, "sys"));
  assert.equal(source.kind === "cpufreq" && source.domains.map((domain) => domain.cpus).join(","), "2,1");
  // current (2 × 1000 + 2500) / 3 = 1500; min 1000; max (2 × 3000 + 2500) / 3 = 2833.333.
  assert.deepEqual(new FrequencyReader(source).read(), { current: 1500, min: 1000, max: 2833.333 });
  await rm(root, { recursive: true });
});

test("frequency: a policy whose scaling_cur_freq cannot be read this tick drops out of the mean", async () => {
  const root = await tree({ ...policy("policy0", 1_000_000, 400_000, 2_000_000, "0"), ...policy("policy1", 3_000_000, 400_000, 4_000_000, "1") });
  const reader = new FrequencyReader(discoverFrequencySource(join(root, "proc"), join(root, "sys")));
  assert.deepEqual(reader.read(), { current: 2000, min: 400, max: 3000 });
  await rm(join(root, CPU, "cpufreq/policy1/scaling_cur_freq"));
  assert.deepEqual(reader.read(), { current: 1000, min: 400, max: 2000 });
  await rm(join(root, CPU, "cpufreq/policy0/scaling_cur_freq"));
  assert.deepEqual(reader.read(), { current: null, min: null, max: null });
  await rm(root, { recursive: true });
});

test("frequency: min and max are re-read once they are older than the refresh period, current every time", async () => {
  const root = await tree(policy("policy0", 1_000_000, 400_000, 2_000_000, "0"));
  const source = discoverFrequencySource(join(root, "proc"), join(root, "sys"));
  const cached = new FrequencyReader(source, 60_000);
  const fresh = new FrequencyReader(source, 20);
  cached.read();
  fresh.read();
  // A cooling device caps the policy at 1.2 GHz.
  await writeFile(join(root, CPU, "cpufreq/policy0/scaling_max_freq"), "1200000\n");
  await writeFile(join(root, CPU, "cpufreq/policy0/scaling_cur_freq"), "1200000\n");
  await sleep(30);
  assert.deepEqual(cached.read(), { current: 1200, min: 400, max: 2000 });
  assert.deepEqual(fresh.read(), { current: 1200, min: 400, max: 1200 });
  await rm(root, { recursive: true });
});

test("frequency: without cpufreq, the cpuinfo MHz lines (no min, no max); with neither, all null", async () => {
  const root = await tree({
    "proc/cpuinfo": "processor\t: 0\ncpu MHz\t\t: 2199.998\n\nprocessor\t: 1\ncpu MHz\t\t: 2200.004\n",
    "bare/cpuinfo": "processor\t: 0\nBogoMIPS\t: 50.00\n",
    [`${CPU}/cpufreq/policy0/affected_cpus`]: "0\n",
  });
  const source = discoverFrequencySource(join(root, "proc"), join(root, "sys"));
  assert.equal(source.kind, "cpuinfo");
  const reader = new FrequencyReader(source);
  assert.deepEqual(reader.read(), { current: 2200.001, min: null, max: null });
  await writeFile(join(root, "proc/cpuinfo"), "processor\t: 0\ncpu MHz\t\t: 3000.000\n");
  assert.deepEqual(reader.read(), { current: 3000, min: null, max: null });
  assert.deepEqual(discoverFrequencySource(join(root, "bare"), join(root, "sys")), { kind: "none" });
  assert.deepEqual(new FrequencyReader({ kind: "none" }).read(), { current: null, min: null, max: null });
  await rm(root, { recursive: true });
});

test("frequency from cpuinfo: read once where x86 prints the boot-time MHz (no aperfmperf flag), every tick where it measures", async () => {
  const cpuinfo = (mhz: string, flags: string) => `processor\t: 0\ncpu MHz\t\t: ${mhz}\nflags\t\t: fpu ${flags} sse2\n\n`;
  for (const [flags, constant, second] of [["hypervisor", true, 2596.148], ["aperfmperf hypervisor", false, 3100]] as const) {
    const root = await tree({ "proc/cpuinfo": cpuinfo("2596.148", flags) });
    const source = discoverFrequencySource(join(root, "proc"), join(root, "sys"));
    assert.deepEqual(source, { kind: "cpuinfo", path: join(root, "proc/cpuinfo"), constant });
    const reader = new FrequencyReader(source);
    assert.deepEqual(reader.read(), { current: 2596.148, min: null, max: null });
    await writeFile(join(root, "proc/cpuinfo"), cpuinfo("3100.000", flags));
    assert.deepEqual(reader.read(), { current: second, min: null, max: null }, flags);
    await rm(root, { recursive: true });
  }
});
