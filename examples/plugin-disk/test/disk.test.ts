import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureLogger, collectFragment } from "@resourcemonitor/runtime/testing";
import plugin, { deviceIo, DiskCollector, parseDiskstats, parseMountinfo, parseProcMounts, storageMounts, unescapeMountField, usageFromStatfs, type DiskOptions } from "../src/index.js";

const OPTIONS: DiskOptions = { rootfs: "/", includeFsTypes: [], excludeFsTypes: [], excludeMountPoints: ["/proc", "/sys", "/dev"], excludeDevices: "^loop\\d+$" };

test("mountinfo fields: the mount point with escapes, the type and source after the separator, optional fields skipped", () => {
  const mounts = parseMountinfo(
    "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n" +
      "37 35 0:40 / /x rw - nfs4 nas:/a\\134b rw\n" +
      "garbage line\n",
  );
  assert.deepEqual(mounts, [
    { device: "/dev/root", mountpoint: "/mnt/with space", fstype: "ext3" },
    { device: "nas:/a\\b", mountpoint: "/x", fstype: "nfs4" },
  ]);
  assert.equal(unescapeMountField("a\\011b\\012c"), "a\tb\nc");
  assert.deepEqual(parseProcMounts("/dev/sda1 /data\\040x xfs rw 0 0\n\n"), [{ device: "/dev/sda1", mountpoint: "/data x", fstype: "xfs" }]);
});

test("pseudo file systems and excluded mount points are left out; options add and remove types", () => {
  const mounts = [
    { device: "/dev/sda1", mountpoint: "/", fstype: "ext4" },
    { device: "tmpfs", mountpoint: "/run", fstype: "tmpfs" },
    { device: "proc", mountpoint: "/proc", fstype: "proc" },
    { device: "/dev/sdb1", mountpoint: "/proc-archive", fstype: "ext4" },
    { device: "/dev/sdc1", mountpoint: "/sys/x", fstype: "ext4" },
    { device: "nas:/a", mountpoint: "/nas", fstype: "nfs4" },
  ];
  const names = (filter: Partial<DiskOptions>) => storageMounts(mounts, { ...OPTIONS, ...filter }).map((mount) => mount.mountpoint);
  assert.deepEqual(names({}), ["/", "/proc-archive", "/nas"]);
  assert.deepEqual(names({ includeFsTypes: ["tmpfs"], excludeFsTypes: ["nfs4"] }), ["/", "/run", "/proc-archive"]);
  assert.deepEqual(names({ excludeMountPoints: ["/"] }), []);
});

test("usage is computed as df does: free excludes reserved blocks, percent of used + free", () => {
  assert.deepEqual(usageFromStatfs({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 }), { total: 4_096_000, used: 2_867_200, free: 1_024_000, percent: 73.7 });
  assert.deepEqual(usageFromStatfs({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 }), { total: 0, used: 0, free: 0, percent: 0 });
});

test("diskstats: modern and 4-field partition lines; rates over the elapsed seconds, null after a counter reset", () => {
  const before = parseDiskstats(" 8 0 sda 100 0 2000 0 50 0 1000 0 0 400 0\n 8 1 sda1 10 200 5 100\n 8 16 sdb x y\n");
  assert.deepEqual(before.get("sda1"), { reads: 10, writes: 5, sectorsRead: 200, sectorsWritten: 100, ioMs: null });
  assert.equal(before.has("sdb"), false);
  const after = parseDiskstats(" 8 0 sda 300 0 6000 0 40 0 1000 0 0 1400 0\n 8 1 sda1 12 240 5 100\n");
  assert.deepEqual(deviceIo(after, before, 2, () => true), [
    { device: "sda", reads: 300, writes: 40, read_bytes: 3_072_000, write_bytes: 512_000, reads_per_second: 100, writes_per_second: null, read_bytes_per_second: 1_024_000, write_bytes_per_second: 0, busy_percent: 50 },
    { device: "sda1", reads: 12, writes: 5, read_bytes: 122_880, write_bytes: 51_200, reads_per_second: 1, writes_per_second: 0, read_bytes_per_second: 10_240, write_bytes_per_second: 0, busy_percent: null },
  ]);
  assert.equal(deviceIo(after, new Map(), 2, () => true)[0]?.reads_per_second, null, "no rate without a previous reading");
});

test("the collector's rates use the time between its reads of /proc/diskstats", async () => {
  const procfs = await mkdtemp(join(tmpdir(), "rm-disk-rates-"));
  try {
    await mkdir(join(procfs, "self"));
    await writeFile(join(procfs, "self", "mountinfo"), `1 0 8:1 / ${procfs} rw - ext4 /dev/sda1 rw\n`);
    await writeFile(join(procfs, "diskstats"), " 8 0 sda 0 0 0 0 0 0 0 0 0 0 0\n 7 0 loop0 1 0 8 0 0 0 0 0 0 0 0\n");
    let clock = 1000;
    const collector = new DiskCollector(procfs, OPTIONS, captureLogger().logger, () => clock);
    await collector.start();
    await writeFile(join(procfs, "diskstats"), " 8 0 sda 500 0 20480 0 250 0 40960 0 0 2500 0\n");
    clock += 10_000;
    const { mounts, io } = await collector.read();
    assert.deepEqual(io, [{ device: "sda", reads: 500, writes: 250, read_bytes: 10_485_760, write_bytes: 20_971_520, reads_per_second: 50, writes_per_second: 25, read_bytes_per_second: 1_048_576, write_bytes_per_second: 2_097_152, busy_percent: 25 }]);
    const real = usageFromStatfs(await statfs(procfs));
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]?.total, real.total, "total matches statfs of the mount point itself");
  } finally {
    await rm(procfs, { recursive: true, force: true });
  }
});

test("no /proc at all: empty lists and one warning per missing file, not one per tick", async () => {
  const { fragment, logs } = await collectFragment(plugin, { procfs: "/nonexistent/proc", ticks: 3 });
  assert.deepEqual(fragment, { disk: { mounts: [], io: [] } });
  assert.equal(logs.filter((line) => line.level === "warn").length, 2, JSON.stringify(logs));
});

test("options are checked: unknown keys, wrong types and a bad regular expression are refused naming the option", async () => {
  await assert.rejects(collectFragment(plugin, { options: { rootFs: "/host" } }), /rootFs/);
  await assert.rejects(collectFragment(plugin, { options: { excludeFsTypes: "tmpfs" } }), /excludeFsTypes: must be array/);
  await assert.rejects(collectFragment(plugin, { options: { excludeDevices: "([" } }), /excludeDevices: not a regular expression/);
});

test("on this machine, each storage mount is reported with the size statfs gives and the fragment validates", async () => {
  const { fragment } = await collectFragment(plugin, {});
  const { mounts } = fragment.disk as { mounts: { mountpoint: string; total: number | null }[] };
  assert.ok(mounts.length > 0, "even a container has a bind-mounted /etc/hostname on a real disk");
  for (const mount of mounts.slice(0, 5)) {
    const real = await statfs(mount.mountpoint).then(usageFromStatfs, () => ({ total: null }));
    assert.equal(mount.total, real.total, mount.mountpoint);
  }
});
