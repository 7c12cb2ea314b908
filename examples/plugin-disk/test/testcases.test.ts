import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { roundPercent } from "@resourcemonitor/runtime";
import { assertPluginContract, collectFromFixture, testcases } from "@resourcemonitor/runtime/testing";
import plugin, { type DiskFragment } from "../src/index.js";

const TESTCASES = join(import.meta.dirname, "testcases");

const isRate = (key: string) => key.endsWith("_per_second") || key === "busy_percent";

/**
 * statfs sizes come from the file system the scratch copy lives on, and rates from the time between two reads:
 * both are checked for consistency here and replaced by a marker; zero rates, a saturated busy_percent and every
 * counter stay exact.
 */
function normalize(fragment: DiskFragment): unknown {
  return {
    mounts: fragment.mounts.map((mount) => {
      if (mount.total === null) return mount;
      const { total, used, free, percent } = mount as { total: number; used: number; free: number; percent: number };
      assert.ok(used + free <= total && total > 0, `${mount.mountpoint}: used ${used} + free ${free} <= total ${total}`);
      assert.equal(percent, roundPercent((used / (used + free)) * 100));
      return { ...mount, total: "statfs", used: "statfs", free: "statfs", percent: "statfs" };
    }),
    io: fragment.io.map((device) =>
      Object.fromEntries(Object.entries(device).map(([key, value]) => [key, isRate(key) && typeof value === "number" && value > 0 && value !== 100 ? "rate" : value])),
    ),
  };
}

/** Creates below rootfs the mount points the case expects statfs to answer for; proc/diskstats.next replaces diskstats before the tick. */
async function collectCase(folder: string): Promise<Record<string, unknown>> {
  const expected = JSON.parse(await readFile(join(folder, "expected.json"), "utf8")) as { disk: DiskFragment };
  const { fragment } = await collectFromFixture(plugin, folder, {
    options: (root) => ({ rootfs: join(root, "rootfs") }),
    beforeTick: async (_index, root) => {
      const rootfs = join(root, "rootfs");
      for (const mount of expected.disk.mounts) if (mount.total !== null) await mkdir(join(rootfs, mount.mountpoint), { recursive: true });
      await rename(join(root, "proc/diskstats.next"), join(root, "proc/diskstats")).catch(() => undefined);
    },
  });
  return { disk: normalize(fragment.disk as DiskFragment) };
}

await testcases(TESTCASES, (folder) => collectCase(folder));

test("the plugin meets the contract: API version, short name, described options, a fragment schema", () => assertPluginContract(plugin));
