// Whole-process CPU per tick and steady RSS of `resourcemonitor run` (file sink, 1 s interval) beside
// systeminformation's equivalent per-tick calls, measured side by side in one run; and, as a reference,
// bench/floor.mjs: the file sink's system calls alone, the floor under any agent on this file system.
// Usage: node bench/tick-cost.mjs [--seconds 60] [--warmup 30] [--json FILE]
// The warm-up is 30 s because V8's memory reducer runs a series of GCs during a process's first ~30 s
// (measured: an idle Node process that has loaded pino costs 1.7 ms/s then, 0.3 ms/s after).
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir, cpus, totalmem, release } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { AGENT_BIN, agentNodeFlags } from "./agent-flags.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: "string", default: "60" }, warmup: { type: "string", default: "30" }, json: { type: "string" } } });
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const CLOCK_TICK_MS = 10; // USER_HZ is 100 on every Linux ABI Node supports

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime+stime (self) and cutime+cstime (waited-for children) in ms, from /proc/PID/stat. */
async function cpuFromStat(pid) {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = (index) => Number(fields[index - 3]);
  return { self: (ticks(14) + ticks(15)) * CLOCK_TICK_MS, children: (ticks(16) + ticks(17)) * CLOCK_TICK_MS };
}

/** Nanosecond CPU time of every thread of the process, from /proc/PID/task/* /schedstat. */
async function cpuFromSchedstat(pid) {
  let total = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const text = await readFile(`/proc/${pid}/task/${task}/schedstat`, "utf8").catch(() => "0");
    total += Number(text.split(" ")[0]);
  }
  return total / 1e6;
}

async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function start(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  return { name, child, exited, output: () => ({ stdout, stderr }) };
}

async function countFiles(directory) {
  return (await readdir(directory).catch(() => [])).length;
}

const dataDir = await mkdtemp(join(tmpdir(), "rm-bench-"));
const historyDir = join(dataDir, "history", "bench-host");
const floorDir = join(dataDir, "floor");
const floorHistoryDir = join(floorDir, "history", "floor-host");
const agentFlags = agentNodeFlags();
const agents = [
  // Started as the installed command is (its shebang sets node's flags).
  start("resourcemonitor run (file sink)", AGENT_BIN, [
    "run", "--interval", "1", "--hostname", "bench-host", "--data-dir", dataDir, "--log-level", "warn",
  ], { RESOURCEMONITOR_ENV_FILE: join(dataDir, "no-env-file") }),
  start("systeminformation loop (currentLoad, mem, cpuCurrentSpeed, cpuTemperature)", process.execPath, ["bench/si-loop.mjs", "1000"]),
  // With the agent's node flags, so that only the framework differs.
  start("floor: the file sink's system calls alone (bench/floor.mjs)", process.execPath, [...agentFlags, "bench/floor.mjs", floorDir]),
];

process.stderr.write(`warming up ${warmup} s, then measuring ${seconds} s…\n`);
await sleep(warmup * 1000);
const before = await Promise.all(agents.map(async ({ child }) => ({ stat: await cpuFromStat(child.pid), sched: await cpuFromSchedstat(child.pid) })));
const historyBefore = await countFiles(historyDir);
const floorBefore = await countFiles(floorHistoryDir);
const startedAt = Date.now();
const rss = agents.map(() => []);
while (Date.now() - startedAt < seconds * 1000) {
  await sleep(1000);
  await Promise.all(agents.map(async ({ child }, index) => rss[index].push(await rssBytes(child.pid))));
}
const after = await Promise.all(agents.map(async ({ child }) => ({ stat: await cpuFromStat(child.pid), sched: await cpuFromSchedstat(child.pid) })));
const elapsed = (Date.now() - startedAt) / 1000;
const rmTicks = (await countFiles(historyDir)) - historyBefore;
const floorTicks = (await countFiles(floorHistoryDir)) - floorBefore;
for (const { child } of agents) child.kill("SIGTERM");
const codes = await Promise.all(agents.map(({ exited }) => exited));
const siTicksTotal = JSON.parse(agents[1].output().stdout.trim() || '{"ticks":0}').ticks;
const siTicks = Math.round(elapsed); // the loop ran at 1 Hz the whole time; its total includes the warm-up
await rm(dataDir, { recursive: true, force: true });

const rows = agents.map(({ name }, index) => {
  const ticks = [rmTicks, siTicks, floorTicks][index];
  const statSelf = after[index].stat.self - before[index].stat.self;
  const statChildren = after[index].stat.children - before[index].stat.children;
  return {
    name,
    ticks,
    cpuMsPerTick: (statSelf + statChildren) / ticks,
    cpuMsPerTickSelf: statSelf / ticks,
    cpuMsPerTickChildren: statChildren / ticks,
    cpuMsPerTickSchedstat: (after[index].sched - before[index].sched) / ticks,
    rssMedianMB: median(rss[index]) / 1e6,
    rssMaxMB: Math.max(...rss[index]) / 1e6,
    exitCode: codes[index],
  };
});
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 1e9), kernel: release(), node: process.version },
  seconds: elapsed,
  siLoopTicksIncludingWarmup: siTicksTotal,
  rows,
};
const fmt = (value) => value.toFixed(2);
console.log(`| process | ticks | CPU ms/tick (stat: self + children) | CPU ms/tick (schedstat, all threads) | RSS median MB | RSS max MB |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
for (const row of rows) {
  console.log(`| ${row.name} | ${row.ticks} | ${fmt(row.cpuMsPerTick)} (${fmt(row.cpuMsPerTickSelf)} + ${fmt(row.cpuMsPerTickChildren)}) | ${fmt(row.cpuMsPerTickSchedstat)} | ${fmt(row.rssMedianMB)} | ${fmt(row.rssMaxMB)} |`);
}
const [agent, , floor] = rows;
console.log(`\nthe agent: ${fmt(agent.cpuMsPerTickSchedstat - floor.cpuMsPerTickSchedstat)} ms/tick (schedstat) above the floor of its file system work`);
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
if (rows.some((row) => row.exitCode !== 0 && row.exitCode !== null)) {
  console.error("a measured process did not exit cleanly:", rows.map((row) => row.exitCode), agents[0].output().stderr.slice(-2000));
  process.exitCode = 1;
}
