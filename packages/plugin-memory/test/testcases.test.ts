import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { collectFragment } from "@resourcemonitor/runtime/testing";
import plugin, { hostPageSize } from "../src/index.js";

const CASES = fileURLToPath(new URL("./testcases/", import.meta.url));
// Expected values of the cases with a zoneinfo were computed with 4 KiB pages; the estimate uses the host's.
const FIXTURE_PAGE_SIZE = 4096;

const caseNames = readdirSync(CASES, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);

for (const name of caseNames) {
  test(`testcase ${name}`, async (t) => {
    const procfs = join(CASES, name, "proc");
    if (existsSync(join(procfs, "zoneinfo")) && hostPageSize() !== FIXTURE_PAGE_SIZE) {
      t.skip(`expected values assume ${FIXTURE_PAGE_SIZE}-byte pages; this host's are ${hostPageSize()}`);
      return;
    }
    const expected = JSON.parse(readFileSync(join(CASES, name, "expected.json"), "utf8")) as unknown;
    const { fragment } = await collectFragment(plugin, { procfs, sysfs: join(CASES, name, "sys") });
    assert.deepEqual(fragment, expected);
  });
}

test("the MemAvailable estimate is announced once at info level, naming the method, not every tick", async () => {
  const estimate = await collectFragment(plugin, { procfs: join(CASES, "centos6-no-memavailable", "proc"), ticks: 3 });
  const announced = estimate.logs.filter((line) => /no usable MemAvailable/.test(line.msg));
  assert.equal(announced.length, 1);
  assert.equal(announced[0]?.level, "info");
  assert.match(announced[0]?.msg ?? "", /kernel 3\.14 estimate/);
  const fallback = await collectFragment(plugin, { procfs: join(CASES, "rhel5-no-file-lru", "proc") });
  assert.match(fallback.logs.find((line) => /no usable MemAvailable/.test(line.msg))?.msg ?? "", /MemFree \+ Cached \(Active\(file\)/);
});

test("with MemAvailable present nothing is logged", async () => {
  const { logs } = await collectFragment(plugin, { procfs: join(CASES, "xeon-server-64g-swap", "proc"), ticks: 2 });
  assert.deepEqual(logs.filter((line) => /MemAvailable/.test(line.msg)), []);
});

test("a missing /proc/meminfo fails the plugin's fragment (the runtime reports it) instead of inventing values", async () => {
  await assert.rejects(collectFragment(plugin, { procfs: "/nonexistent-procfs" }), /plugin memory: cannot read \/nonexistent-procfs\/meminfo \(ENOENT\)/);
});

test("a meminfo without MemTotal fails the fragment with a message naming the file and the line", async () => {
  const procfs = mkdtempSync(join(tmpdir(), "plugin-memory-"));
  try {
    writeFileSync(join(procfs, "meminfo"), "MemFree:  1000 kB\nMemAvailable: 2000 kB\n");
    await assert.rejects(collectFragment(plugin, { procfs }), /plugin memory: .*meminfo has no MemTotal line/);
  } finally {
    rmSync(procfs, { recursive: true, force: true });
  }
});

test("meminfo is re-read every tick", async () => {
  const procfs = mkdtempSync(join(tmpdir(), "plugin-memory-"));
  try {
    const write = (availableKb: number) => {
      writeFileSync(join(procfs, "meminfo"), `MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: ${availableKb} kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n`);
    };
    const { fragment } = await collectFragment(plugin, { procfs, ticks: 2, beforeTick: (index) => write(index === 0 ? 900 : 250) });
    assert.deepEqual((fragment as { memory: { virtual: unknown } }).memory.virtual, { total: 1024000, available: 256000, used: 768000, percent: 75, free: 102400 });
  } finally {
    rmSync(procfs, { recursive: true, force: true });
  }
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
