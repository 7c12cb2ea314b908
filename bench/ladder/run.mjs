// Where the agent's CPU per tick goes, rung by rung. Every process runs at once on the same 1 s wall-clock
// schedule with the agent's node flags and the same store layout in a directory; each rung adds one layer of
// the real agent to the rung before it, so the differences between rows are what each layer costs at 1 Hz.
// collectd (as configured by bench/peers) runs beside them when it is installed, as the yardstick.
// Usage: node bench/ladder/run.mjs [--seconds 120] [--warmup 20] [--json FILE]
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AGENT_BIN, agentNodeFlags } from "../agent-flags.mjs";
import { collectdConfig } from "../peers/collectd.mjs";
import { cpuFromSchedstat, median, runsFromSchedstat, sampleRss, sleep, startProcess, stopProcesses } from "../process-stats.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "120" },
    warmup: { type: "string", default: "20" },
    json: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const dir = await mkdtemp(join(tmpdir(), "rm-ladder-"));
const flags = agentNodeFlags();
const node = (name, args) => startProcess(name, process.execPath, [...flags, ...args], { cwd: root, env: { RESOURCEMONITOR_ENV_FILE: join(dir, "no-env-file") } });
const rungs = [
  node("1. the file sink's system calls, /proc read but not parsed (bench/floor.mjs)", ["bench/floor.mjs", join(dir, "floor")]),
  node("2. + the four collector plugins on bare hooks", ["bench/ladder/rung.mjs", "collectors", join(dir, "collectors")]),
  node("3. + the runtime's collect (wrappers, fragment checks, assembly)", ["bench/ladder/rung.mjs", "runtime", join(dir, "runtime")]),
  node("4. + sink-file through the runtime's emit (layout, file store, delivery lane)", ["bench/ladder/rung.mjs", "sink-file", join(dir, "sink-file")]),
  node("5. `resourcemonitor run`: + CLI, config, scheduler, status file, logger", [AGENT_BIN, "run", "--interval", "1", "--hostname", "ladder-agent", "--data-dir", join(dir, "agent"), "--log-level", "warn"]),
];
const collectd = existsSync("/usr/sbin/collectd");
if (collectd) {
  await writeFile(join(dir, "collectd.conf"), collectdConfig(dir));
  rungs.push(startProcess("collectd (cpu, memory, swap, cpufreq, thermal, csv), the yardstick", "collectd", ["-f", "-C", join(dir, "collectd.conf")], { cwd: root }));
}

let results;
try {
  process.stderr.write(`warming up ${warmup} s, then measuring ${seconds} s…\n`);
  await sleep(warmup * 1000);
  for (const rung of rungs) if (rung.child.exitCode !== null) throw new Error(`${rung.name} exited early: ${rung.stderr()}`);
  const measure = () => rungs.map(({ child }) => ({ cpu: cpuFromSchedstat(child.pid), runs: runsFromSchedstat(child.pid) }));
  const before = measure();
  const { rss, elapsed: ticks } = await sampleRss(rungs, seconds); // every process ticks once a second
  const after = measure();
  results = rungs.map(({ name }, index) => ({
    name,
    cpuMsPerTick: (after[index].cpu - before[index].cpu) / ticks,
    runsPerTick: (after[index].runs - before[index].runs) / ticks,
    rssMedianMB: median(rss[index]) / 1e6,
  }));
} finally {
  await stopProcesses(rungs);
  await rm(dir, { recursive: true, force: true });
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
console.log(`${new Date().toISOString().slice(0, 16)} UTC · ${machine} · ${seconds} s after ${warmup} s warm-up · CPU of all threads (schedstat)`);
console.log("| process | CPU ms/tick | over the rung before | on a CPU per tick | RSS median MB |");
console.log("| --- | ---: | ---: | ---: | ---: |");
results.forEach((row, index) => {
  const difference = index > 0 && index < 5 ? row.cpuMsPerTick - results[index - 1].cpuMsPerTick : undefined;
  const step = difference === undefined ? "" : `${difference < 0 ? "−" : "+"}${Math.abs(difference).toFixed(2)}`;
  console.log(`| ${row.name} | ${row.cpuMsPerTick.toFixed(2)} | ${step} | ${row.runsPerTick.toFixed(2)} | ${row.rssMedianMB.toFixed(1)} |`);
});
if (values.json) await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds, warmup, results }, null, 2)}\n`);
