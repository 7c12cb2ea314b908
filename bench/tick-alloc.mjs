// Bytes the agent allocates per tick, by phase (collect, emit), for the default preset with the file sink, in
// this process: allocation drives the young-generation GCs and the page faults behind part of the CPU per tick
// (BENCHMARKS.md). Deterministic where bench/tick-cost.mjs is noisy, so it shows what a change to the tick path does.
// The script runs itself again with the agent's code flags, a young generation large enough that no GC runs while
// measuring, and no memory reducer; used heap is read before and after each phase, and a GC during the run fails it.
// Usage: node bench/tick-alloc.mjs [--ticks 200] [--config FILE]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { agentNodeFlags } from "./agent-flags.mjs";
import { createLogger, loadConfig } from "@resourcemonitor/runtime";
const { createAgent, DEFAULT_COLLECTORS } = await import("../packages/agent/dist/src/index.js");

const MEASURING_FLAGS = ["--min-semi-space-size=64", "--max-semi-space-size=64", "--no-memory-reducer"];
if (!process.execArgv.includes(MEASURING_FLAGS[0])) {
  // Only the flags that change what code allocates (--no-opt: no escape analysis); the GC flags would cap the young generation.
  const agentFlags = agentNodeFlags().filter((flag) => !/^--(max-semi-space-size|optimize-for-size)/.test(flag));
  const run = spawnSync(process.execPath, [...agentFlags, ...MEASURING_FLAGS, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const { values } = parseArgs({ options: { ticks: { type: "string", default: "200" }, config: { type: "string" } } });
const ticks = Number(values.ticks);
const WARMUP_TICKS = 50;
const dir = mkdtempSync(join(tmpdir(), "rm-tick-alloc-"));
process.env.RESOURCEMONITOR_ENV_FILE = join(dir, "no-env-file"); // none: the defaults, not this machine's /etc file
const config = await loadConfig({
  configFile: values.config,
  defaultCollectors: DEFAULT_COLLECTORS,
  flags: { interval: "1", hostname: "alloc-host", dataDir: dir, logLevel: "warn" },
});
const { runtime } = await createAgent(config, createLogger({ level: "warn" }));
await runtime.start();

let collections = 0;
const gcWatch = new PerformanceObserver((list) => (collections += list.getEntries().length));
const used = () => getHeapStatistics().used_heap_size;
const totals = { collect: 0, emit: 0 };
let slot = Math.floor(Date.now() / 1000) * 1000;
for (let tick = 0; tick < WARMUP_TICKS + ticks; tick += 1) {
  if (tick === WARMUP_TICKS) gcWatch.observe({ entryTypes: ["gc"] });
  slot += 1000;
  const before = used();
  const document = await runtime.collect(new Date(slot));
  const collected = used();
  if (!document) throw new Error("the document did not validate");
  await runtime.emit(document, { waitMs: 1000 });
  const emitted = used();
  if (tick >= WARMUP_TICKS) {
    totals.collect += collected - before;
    totals.emit += emitted - collected;
  }
}
gcWatch.disconnect();
await runtime.stop();
rmSync(dir, { recursive: true, force: true });
if (collections > 0) throw new Error(`${collections} GCs ran while measuring: give node a larger --min-semi-space-size or fewer --ticks`);
const kb = (bytes) => (bytes / ticks / 1024).toFixed(1);
console.log(`collectors: ${config.collectors.map((entry) => entry.name).join(", ")}; sinks: ${config.sinks.map((entry) => entry.name).join(", ")}; ${ticks} ticks`);
console.log(`KB allocated per tick: collect ${kb(totals.collect)}, emit ${kb(totals.emit)}, total ${kb(totals.collect + totals.emit)}`);
