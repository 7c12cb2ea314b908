import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectFragment, testcases } from "@resourcemonitor/runtime/testing";
import plugin from "../src/index.js";

const TESTCASES = join(import.meta.dirname, "testcases");

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Copies a case to a scratch directory and collects from it. start() takes the baseline from `proc/stat`; before
 * the first tick `proc/stat.next` (when the case has one) replaces it, so the first tick's usage covers that delta.
 */
async function collectCase(name: string, options: Record<string, unknown> = {}, ticks = 1): Promise<Record<string, unknown>> {
  const root = await mkdtemp(join(tmpdir(), `rm-cpu-${name}-`));
  try {
    await cp(join(TESTCASES, name), root, { recursive: true, verbatimSymlinks: true });
    const next = join(root, "proc/stat.next");
    const hasNext = await exists(next);
    const { fragment } = await collectFragment(plugin, {
      procfs: join(root, "proc"),
      sysfs: join(root, "sys"),
      options,
      ticks,
      beforeTick: async (index) => {
        if (index === 0 && hasNext) await rename(next, join(root, "proc/stat"));
      },
    });
    return fragment;
  } finally {
    await rm(root, { recursive: true });
  }
}

await testcases(TESTCASES, (_folder, name) => collectCase(name));

test("a tick with no time passed in /proc/stat reports 0.0, not the previous window again", async () => {
  const fragment = await collectCase("intel-laptop-8t", {}, 2);
  const cpu = fragment.cpu as { usage_percent: number; usage_per_core: number[] };
  assert.equal(cpu.usage_percent, 0);
  assert.deepEqual(cpu.usage_per_core, [0, 0, 0, 0, 0, 0, 0, 0]);
});

test("perCore: false leaves usage_per_core empty and keeps the rest", async () => {
  const fragment = await collectCase("cloud-vm-2vcpu", { perCore: false });
  assert.deepEqual(fragment.cpu, {
    usage_percent: 27,
    usage_per_core: [],
    frequency: { current: 2500.002, min: null, max: null },
    count_logical: 2,
    count_physical: 1,
  });
});

test("options are checked: unknown keys and wrong types are refused", async () => {
  await assert.rejects(collectFragment(plugin, { options: { perCore: "yes" } }), /perCore/);
  await assert.rejects(collectFragment(plugin, { options: { percore: true } }), /percore/);
});

test("an unreadable /proc/stat gives null usage and count, an empty per-core list, and one warning", async () => {
  const root = await mkdtemp(join(tmpdir(), "rm-cpu-empty-"));
  try {
    const { fragment, logs } = await collectFragment(plugin, { procfs: join(root, "proc"), sysfs: join(root, "sys"), ticks: 2 });
    assert.deepEqual(fragment.cpu, {
      usage_percent: null,
      usage_per_core: [],
      frequency: { current: null, min: null, max: null },
      count_logical: null,
      count_physical: null,
    });
    assert.equal(logs.filter((line) => line.level === "warn").length, 1);
  } finally {
    await rm(root, { recursive: true });
  }
});
