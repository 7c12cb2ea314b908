import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectFragment } from "@resourcemonitor/runtime/testing";
import plugin, { parseSmiLine } from "../src/index.js";
import { FAKE_NVIDIA_SMI, sleep, withEnv } from "./fake.js";

const EXPECTED = JSON.parse(await readFile(join(import.meta.dirname, "fixtures", "nvidia-smi.expected.json"), "utf8")) as { gpu: unknown[] };
const SMI = { backend: "nvidia-smi", nvidiaSmiPath: FAKE_NVIDIA_SMI, retryInterval: 1 };

async function pidsOf(file: string): Promise<number[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("parseSmiLine: a row of the real CSV format; [N/A], [Not Supported] and N/A become null", () => {
  const line = "2, NVIDIA A100-SXM4-40GB, GPU-0f9e8d7c-6b5a-4321-9876-543210fedcba, 00000000:81:00.0, 40960, 10240, 30208, [N/A], [Not Supported], 35, N/A, [N/A]";
  assert.deepEqual(parseSmiLine(line), EXPECTED.gpu[2]);
});

test("parseSmiLine: lines that are not GPU rows are skipped", () => {
  for (const line of [
    "",
    "WARNING: infoROM is corrupted at gpu 00000000:41:00.0",
    "index, name, uuid, pci.bus_id, memory.total [MiB], memory.used [MiB], memory.free [MiB], utilization.gpu [%], utilization.memory [%], temperature.gpu, power.draw [W], fan.speed [%]",
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    "0, NVIDIA GeForce RTX 4080, 16376",
  ]) {
    assert.equal(parseSmiLine(line), null, line);
  }
});

test("one long-running nvidia-smi feeds every tick; the document equals the fixture; stop kills it", async () => {
  const pidfile = join(await mkdtemp(join(tmpdir(), "rm-smi-")), "pids");
  const { fragment } = await withEnv({ FAKE_SMI_PIDFILE: pidfile }, () =>
    collectFragment(plugin, { options: SMI, intervalMs: 200, ticks: 4, beforeTick: () => sleep(250) }),
  );
  assert.deepEqual(fragment, EXPECTED);
  const pids = await pidsOf(pidfile);
  assert.equal(pids.length, 1, "one process for all ticks, never one per tick");
  assert.equal(alive(pids[0] ?? 0), false, "killed at stop");
});

test("nvidia-smi that exits is restarted with backoff, with one warning", async () => {
  const pidfile = join(await mkdtemp(join(tmpdir(), "rm-smi-")), "pids");
  const { fragment, logs } = await withEnv({ FAKE_SMI_PIDFILE: pidfile, FAKE_SMI_EXIT_AFTER: "1" }, () =>
    collectFragment(plugin, { options: SMI, intervalMs: 200, ticks: 3, beforeTick: () => sleep(700) }),
  );
  assert.deepEqual(fragment, EXPECTED);
  assert.ok((await pidsOf(pidfile)).length >= 2, "restarted");
  // The same exit again and again is one warning (then debug), until a run lasts a minute.
  assert.equal(logs.filter((line) => line.level === "warn" && /nvidia-smi exited with code 3; starting it again in 1\.0 s/.test(line.msg)).length, 1);
  assert.ok(logs.some((line) => line.level === "debug" && /nvidia-smi exited with code 3/.test(line.msg)), "the repeat is at debug");
  for (const pid of await pidsOf(pidfile)) assert.equal(alive(pid), false);
});

test("nvidia-smi without a driver (exit 9): gpu is [], one info line, retried after retryInterval", async () => {
  const pidfile = join(await mkdtemp(join(tmpdir(), "rm-smi-")), "pids");
  const { fragment, logs } = await withEnv({ FAKE_SMI_PIDFILE: pidfile, FAKE_SMI_DRIVER_NOT_LOADED: "1" }, () =>
    collectFragment(plugin, { options: SMI, intervalMs: 200, ticks: 2, beforeTick: () => sleep(700) }),
  );
  assert.deepEqual(fragment, { gpu: [] });
  assert.equal(logs.filter((line) => line.level === "info" && line.msg.includes("the NVIDIA driver is not loaded")).length, 1);
  assert.equal((await pidsOf(pidfile)).length, 2, "started, then once more after retryInterval (1 s)");
});

test("nvidia-smi not found: gpu is [], one info line", async () => {
  const { fragment, logs } = await collectFragment(plugin, {
    options: { ...SMI, nvidiaSmiPath: "/nonexistent/nvidia-smi" },
    ticks: 2,
    beforeTick: () => sleep(200),
  });
  assert.deepEqual(fragment, { gpu: [] });
  assert.equal(logs.filter((line) => line.level === "info" && line.msg.startsWith("nvidia-smi not found")).length, 1);
});
