import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, startCli, tempDir, waitFor, sleep } from "./cli-helpers.js";

const FAKE_NVIDIA_SMI = fileURLToPath(new URL("../../plugin-nvidia/test/fixtures/nvidia-smi", import.meta.url));

interface LogLine {
  level: number;
  plugin?: string;
  msg: string;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Running: exists and is not a zombie (an orphan killed with the agent waits for init to reap it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function pidsOf(file: string): Promise<number[]> {
  return (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);
}

/** Every process whose command line mentions `marker` (the fake nvidia-smi's path). */
async function processesMentioning(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) found.push(Number(entry));
  }
  return found;
}

test("default preset on a machine without NVIDIA driver: gpu is [], one info line, the other collectors unaffected", async () => {
  const { code, stdout, stderr } = await runCli(["once", "--hostname", "no-gpu"], { cwd: await tempDir() });
  assert.equal(code, 0, stderr);
  const document = JSON.parse(stdout) as { gpu: unknown[]; cpu: { usage_percent: number; count_logical: number }; memory: { virtual: { total: number } } };
  assert.deepEqual(document.gpu, []);
  assert.ok(document.cpu.count_logical >= 1);
  assert.ok(document.memory.virtual.total > 0);
  const nvidia = logLines(stderr).filter((line) => line.plugin === "nvidia");
  assert.equal(nvidia.length, 1, stderr);
  assert.equal(nvidia[0]?.level, 30, "info");
  assert.match(nvidia[0]?.msg ?? "", /libnvidia-ml\.so\.1.*gpu will be \[\]/);
});

async function startWithFakeSmi(hostname: string): Promise<{ agent: ReturnType<typeof startCli>; pidfile: string; cwd: string }> {
  const cwd = await tempDir();
  const pidfile = join(cwd, "nvidia-smi.pids");
  const config = { interval: 1, hostname, collectors: ["cpu", { name: "nvidia", backend: "nvidia-smi", nvidiaSmiPath: FAKE_NVIDIA_SMI, retryInterval: 1 }] };
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify(config));
  const agent = startCli(["run"], { cwd, env: { FAKE_SMI_PIDFILE: pidfile } });
  const latest = join(cwd, "resourcemonitor-data", `${hostname}.json`);
  await waitFor(async () => {
    const document = JSON.parse(await readFile(latest, "utf8")) as { gpu: unknown[] };
    return document.gpu.length === 3 ? true : undefined;
  }, 5000, "a document with the fake nvidia-smi's three GPUs");
  return { agent, pidfile, cwd };
}

test("nvidia-smi backend: one process; SIGTERM to the agent leaves no nvidia-smi behind", async () => {
  const { agent, pidfile } = await startWithFakeSmi("smi-term");
  const [pid] = await pidsOf(pidfile);
  assert.ok(pid && alive(pid));
  agent.child.kill("SIGTERM");
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr);
  assert.equal((await pidsOf(pidfile)).length, 1, "never one process per tick");
  assert.equal(alive(pid), false);
  assert.deepEqual(await processesMentioning(FAKE_NVIDIA_SMI), []);
});

test("nvidia-smi killed under the agent is restarted; an agent killed with SIGKILL takes nvidia-smi with it", async () => {
  const { agent, pidfile } = await startWithFakeSmi("smi-kill");
  const [first] = await pidsOf(pidfile);
  process.kill(first ?? 0, "SIGKILL");
  const second = await waitFor(async () => (await pidsOf(pidfile))[1], 4000, "nvidia-smi to be restarted");
  assert.ok(alive(second));
  agent.child.kill("SIGKILL");
  await agent.done;
  // Well within the fake's 1 s between writes: the kernel's parent-death signal (setpriv), not a later SIGPIPE.
  await waitFor(async () => (alive(second) ? undefined : true), 500, "nvidia-smi to die with the agent");
  await sleep(100);
  assert.deepEqual(await processesMentioning(FAKE_NVIDIA_SMI), []);
  assert.match(agent.stderr(), /nvidia-smi was killed by SIGKILL; starting it again/);
});
