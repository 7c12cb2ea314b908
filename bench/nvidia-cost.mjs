#!/usr/bin/env node
// Per-tick CPU cost of reading NVIDIA GPUs, three ways, in one run on one machine:
//   1. plugin-nvidia's NVML backend on the fake libnvidia-ml.so.1 (2 GPUs): main-thread CPU and the rest
//      (the worker) per read, from /proc/self/task/*/schedstat (ns);
//   2. one spawn of the fake nvidia-smi per tick (what a spawn-per-tick collector pays), CPU of this process
//      plus its children (/proc/self/stat cutime + cstime);
//   3. systeminformation's graphics(), the same way.
// Also the no-GPU case (no library): what a tick costs on a machine without NVIDIA driver.
// Usage: node bench/nvidia-cost.mjs [--reads 3000] [--spawns 100] [--graphics 20]   (after `npm run build`)
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs, promisify } from "node:util";
import { pino } from "pino";
import si from "systeminformation";
import { NvmlBackend } from "../packages/plugin-nvidia/dist/src/nvml/backend.js";

const { values } = parseArgs({ options: { reads: { type: "string", default: "3000" }, spawns: { type: "string", default: "100" }, graphics: { type: "string", default: "20" } } });
const READS = Number(values.reads);
const SPAWNS = Number(values.spawns);
const GRAPHICS = Number(values.graphics);
const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = join(ROOT, "packages/plugin-nvidia/test/fixtures");
const CLOCK_TICK_NS = 1e7; // USER_HZ = 100

function threadNs(tid) {
  return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
}
function allThreadsNs() {
  return readdirSync("/proc/self/task").reduce((sum, tid) => sum + threadNs(tid), 0);
}
function childrenNs() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) * CLOCK_TICK_NS; // cutime, cstime
}
const us = (ns) => (ns / 1000).toFixed(1);

async function measureNvml(libraryPath, reads) {
  const backend = new NvmlBackend({ libraryPath, retryIntervalMs: 300_000, reopenDelayMs: 5000 }, pino({ level: "silent" }));
  backend.start();
  let gpus = [];
  for (let i = 0; i < 200; i += 1) gpus = await backend.read(); // warm-up: worker start, library open, JIT
  const main0 = threadNs(process.pid);
  const all0 = allThreadsNs();
  const wall0 = performance.now();
  for (let i = 0; i < reads; i += 1) gpus = await backend.read();
  const wall = (performance.now() - wall0) / reads;
  const main = (threadNs(process.pid) - main0) / reads;
  const others = (allThreadsNs() - all0) / reads - main;
  await backend.stop();
  return { gpus: gpus.length, main, others, wallUs: wall * 1000 };
}

async function measureSpawns(command, args, count) {
  const all0 = allThreadsNs();
  const children0 = childrenNs();
  const wall0 = performance.now();
  for (let i = 0; i < count; i += 1) await promisify(execFile)(command, args);
  return { self: (allThreadsNs() - all0) / count, children: (childrenNs() - children0) / count, wallUs: ((performance.now() - wall0) / count) * 1000 };
}

async function measureGraphics(count) {
  await si.graphics(); // first call loads modules
  const all0 = allThreadsNs();
  const children0 = childrenNs();
  const wall0 = performance.now();
  let result;
  for (let i = 0; i < count; i += 1) result = await si.graphics();
  return { self: (allThreadsNs() - all0) / count, children: (childrenNs() - children0) / count, wallUs: ((performance.now() - wall0) / count) * 1000, controllers: result.controllers.length };
}

const build = mkdtempSync(join(tmpdir(), "rm-bench-nvml-"));
const library = join(build, "libnvidia-ml.so.1");
execFileSync("gcc", ["-shared", "-fPIC", "-O2", "-o", library, join(FIXTURES, "fake-nvml.c")]);

const nvml = await measureNvml(library, READS);
const none = await measureNvml(join(build, "missing", "libnvidia-ml.so.1"), READS);
const query = "--query-gpu=index,name,uuid,pci.bus_id,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,fan.speed";
const smi = await measureSpawns(join(FIXTURES, "nvidia-smi"), [query, "--format=csv,noheader,nounits"], SPAWNS);
const graphics = await measureGraphics(GRAPHICS);

console.log(`node ${process.version}, systeminformation ${si.version()}; ${READS} NVML reads, ${SPAWNS} spawns, ${GRAPHICS} graphics() calls\n`);
console.log("| per tick | GPUs | main thread CPU µs | other threads CPU µs | children CPU µs | wall µs |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
console.log(`| NVML backend, fake libnvidia-ml (worker + shared memory) | ${nvml.gpus} | ${us(nvml.main)} | ${us(nvml.others)} | 0 | ${nvml.wallUs.toFixed(1)} |`);
console.log(`| NVML backend, no library (this machine's case) | ${none.gpus} | ${us(none.main)} | ${us(none.others)} | 0 | ${none.wallUs.toFixed(1)} |`);
console.log(`| one spawn of the fake nvidia-smi (perl, prints 3 rows) | 3 | ${us(smi.self)} (all threads) | | ${us(smi.children)} | ${smi.wallUs.toFixed(0)} |`);
console.log(`| systeminformation graphics() | ${graphics.controllers} controllers | ${us(graphics.self)} (all threads) | | ${us(graphics.children)} | ${graphics.wallUs.toFixed(0)} |`);
