import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KernelFile } from "../src/index.js";

function openDescriptorsOf(path: string): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

test("a procfs file is read again through its descriptor and shows the kernel's current text", () => {
  const file = new KernelFile("/proc/self/stat");
  const first = file.read() ?? "";
  assert.ok(first.startsWith(`${process.pid} (`));
  // utime + stime (fields 14 and 15) grow as this process burns CPU
  const cpuTicks = (text: string) => text.slice(text.lastIndexOf(")") + 2).split(" ").slice(11, 13).reduce((sum, field) => sum + Number(field), 0);
  const started = process.cpuUsage();
  while (process.cpuUsage(started).user < 50_000); // 50 ms of CPU: five clock ticks
  const second = file.read();
  assert.ok(second && cpuTicks(second) > cpuTicks(first));
  assert.equal(openDescriptorsOf(`/proc/${process.pid}/stat`), 1, "kept open between reads");
  file.close();
  assert.equal(openDescriptorsOf(`/proc/${process.pid}/stat`), 0);
});

test("a file outside procfs and sysfs is opened for each read, so a replaced one is seen", () => {
  const dir = mkdtempSync(join(tmpdir(), "kernel-file-"));
  try {
    const path = join(dir, "stat");
    writeFileSync(path, "cpu 1\n");
    const file = new KernelFile(path);
    assert.equal(file.read(), "cpu 1\n");
    writeFileSync(join(dir, "next"), "cpu 2\n");
    renameSync(join(dir, "next"), path);
    assert.equal(file.read(), "cpu 2\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file longer than the read buffer is read whole; a missing one reads as null with its error code", () => {
  const dir = mkdtempSync(join(tmpdir(), "kernel-file-"));
  try {
    const long = `${"0123456789abcdef".repeat(3000)}\n`;
    writeFileSync(join(dir, "long"), long);
    assert.equal(new KernelFile(join(dir, "long")).read(), long);
    assert.equal(new KernelFile(join(dir, "long"), 7).read(), long);
    const missing = new KernelFile(join(dir, "missing"));
    assert.equal(missing.read(), null);
    assert.equal(missing.problem, "ENOENT");
    writeFileSync(join(dir, "missing"), "42\n");
    assert.equal(missing.readInteger(), 42);
    assert.equal(missing.problem, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
