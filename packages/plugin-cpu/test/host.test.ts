import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { captureLogger, collectFragment } from "@resourcemonitor/runtime/testing";
import plugin, { CpuCollector, discoverFrequencySource, MIN_WINDOW_MS, type CpuFragment } from "../src/index.js";

// These run against the real /proc and /sys of the machine running the tests (Linux only).

test("this machine: the document validates and the first tick already has real usage", async () => {
  const { fragment } = await collectFragment(plugin);
  const cpu = fragment.cpu as CpuFragment;
  assert.ok(Number.isInteger(cpu.count_logical) && (cpu.count_logical ?? 0) > 0, `count_logical ${cpu.count_logical}`);
  assert.ok(typeof cpu.usage_percent === "number" && cpu.usage_percent >= 0 && cpu.usage_percent <= 100, `usage ${cpu.usage_percent}`);
  assert.equal(cpu.usage_per_core.length, cpu.count_logical);
  assert.ok(cpu.count_physical === null || cpu.count_physical <= (cpu.count_logical ?? 0));
});

test("this machine: frequency.current is a positive number (from /proc/cpuinfo when there is no cpufreq)", async () => {
  const source = discoverFrequencySource("/proc", "/sys");
  const { fragment } = await collectFragment(plugin);
  const { frequency } = fragment.cpu as CpuFragment;
  if (source.kind === "none") {
    // ARM, MIPS or RISC-V without cpufreq: nothing reports a frequency.
    assert.deepEqual(frequency, { current: null, min: null, max: null });
    return;
  }
  assert.ok(typeof frequency.current === "number" && frequency.current > 0, `current ${frequency.current}`);
  if (source.kind === "cpuinfo") assert.deepEqual([frequency.min, frequency.max], [null, null]);
});

test("a collect right after start waits out the minimum window; a later one does not wait", async () => {
  const collector = new CpuCollector("/proc", "/sys", { perCore: true }, captureLogger().logger);
  await collector.start();
  let started = performance.now();
  await collector.read();
  assert.ok(performance.now() - started >= MIN_WINDOW_MS - 5, `first read took ${performance.now() - started} ms`);
  await sleep(MIN_WINDOW_MS + 20);
  started = performance.now();
  await collector.read();
  assert.ok(performance.now() - started < MIN_WINDOW_MS / 2, `second read took ${performance.now() - started} ms`);
});
