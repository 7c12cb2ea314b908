// Soak: `resourcemonitor run` (a real process, the default preset) at 1 s for 30 minutes with the S3 sink against
// the local S3 server (conditional writes on, 20-50 ms added latency per request). Every 10 s it reads the
// agent's /proc: RSS, open descriptors, CPU (utime+stime from stat, and every thread's schedstat), and the
// agent's status file (ticks, skipped slots). Two agents run side by side, each its own host in the bucket:
// "plain", whose CPU, RSS and descriptors are the figures, and "probe", which also loads bench/soak/loop-delay.mjs
// with NODE_OPTIONS=--import (the agent's code unchanged) for the event-loop delay; the probe's timer wakes the
// loop 50 times a second, which costs CPU the plain agent does not pay.
// Usage: node bench/soak/run.mjs [--minutes 30] [--window 5] [--warmup 60] [--latency 20,50] [--json FILE]
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startS3Server } from "../../packages/s3-test-server/dist/src/index.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    window: { type: "string", default: "5" },
    warmup: { type: "string", default: "60" },
    latency: { type: "string", default: "20,50" },
    json: { type: "string" },
  },
});
const root = fileURLToPath(new URL("../..", import.meta.url));
const DURATION_MS = Number(values.minutes) * 60_000;
const WINDOW_MS = Number(values.window) * 60_000;
const WARMUP_MS = Number(values.warmup) * 1000;
const SAMPLE_EVERY_MS = 10_000;
const BUCKET = "soak";
const CLOCK_TICK_MS = 10;

const readProc = (pid, file) => readFileSync(`/proc/${pid}/${file}`, "utf8");

function sampleAgent(pid, stateDir) {
  const stat = readProc(pid, "stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  let schedNs = 0;
  const tasks = readdirSync(`/proc/${pid}/task`);
  for (const task of tasks) {
    try {
      schedNs += Number(readProc(pid, `task/${task}/schedstat`).split(" ")[0]);
    } catch {
      // thread exited
    }
  }
  let status = {};
  try {
    status = JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
  } catch {
    // not written yet
  }
  return {
    t: Date.now(),
    rss: Number(/VmRSS:\s+(\d+) kB/.exec(readProc(pid, "status"))[1]) * 1024,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: tasks.length,
    statCpuMs: (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS,
    schedCpuMs: schedNs / 1e6,
    ticks: status.ticks ?? 0,
    skipped: status.skipped ?? 0,
    sinks: status.sinks,
    machineLoad: loadavg()[0],
  };
}

/** CPU ms per tick between two samples, by both measures. */
function cpuPerTick(from, to) {
  const ticks = to.ticks - from.ticks;
  return { ticks, schedMs: (to.schedCpuMs - from.schedCpuMs) / ticks, statMs: (to.statCpuMs - from.statCpuMs) / ticks };
}

/** Least-squares slope of y over time, per hour. */
function slopePerHour(samples, y) {
  const n = samples.length;
  const xs = samples.map((s) => (s.t - samples[0].t) / 3_600_000);
  const ys = samples.map(y);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return num / den;
}

const dir = await mkdtemp(join(tmpdir(), "rm-soak-"));
const server = await startS3Server({ buckets: [BUCKET], conditional: true, latencyMs: values.latency.split(",").map(Number), recordRequests: false });
const PROBE = fileURLToPath(new URL("./loop-delay.mjs", import.meta.url));

function startAgent(name, probe) {
  const stateDir = join(dir, name, "state");
  const loopFile = join(dir, `${name}-loop-delay.jsonl`);
  const env = {
    ...process.env,
    S3_BUCKET_NAME: BUCKET,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: "soak",
    AWS_SECRET_ACCESS_KEY: "soak-secret",
    AWS_EC2_METADATA_DISABLED: "true",
    RESOURCEMONITOR_ENV_FILE: join(dir, "no-such-env-file"),
    ...(probe ? { NODE_OPTIONS: `--import=${PROBE}`, RESOURCEMONITOR_SOAK_LOOP_FILE: loopFile } : {}),
  };
  const args = ["run", "--interval", "1", "--hostname", `soak-${name}`, "--data-dir", join(dir, name, "data"), "--state-dir", stateDir, "--log-level", "warn"];
  const child = spawn(join(root, "packages/agent/bin/resourcemonitor.js"), args, { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (chunk) => (log = (log + chunk).slice(-20_000)));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return { name, probe, child, stateDir, loopFile, exited, log: () => log, samples: [] };
}

const agents = [startAgent("plain", false), startAgent("probe", true)];
const startedAt = Date.now();
try {
  process.stderr.write(`soak: agents ${agents.map((agent) => `${agent.name} pid ${agent.child.pid}`).join(", ")}; ${values.minutes} min (+${WARMUP_MS / 1000} s warm-up), sampling every ${SAMPLE_EVERY_MS / 1000} s…\n`);
  while (Date.now() - startedAt < WARMUP_MS + DURATION_MS) {
    await sleep(SAMPLE_EVERY_MS - ((Date.now() - startedAt) % SAMPLE_EVERY_MS));
    for (const agent of agents) {
      const { child } = agent;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent ${agent.name} exited early (${child.exitCode ?? child.signalCode}): ${agent.log()}`);
      agent.samples.push(sampleAgent(child.pid, agent.stateDir));
    }
  }
} finally {
  for (const { child } of agents) child.kill("SIGTERM");
  await Promise.race([Promise.all(agents.map((agent) => agent.exited)), sleep(10_000)]);
  for (const { child } of agents) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
const requests = server.counts();
await server.close();
for (const agent of agents) {
  agent.loop = (await readFile(agent.loopFile, "utf8").catch(() => "")).trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)).filter((line) => line.samples > 0);
}
await rm(dir, { recursive: true, force: true });

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const worst = (lines, field) => (lines.length === 0 ? Number.NaN : Math.max(...lines.map((line) => line[field])));

/** One agent's figures over the measured time (after the warm-up). */
function summarize({ name, probe, samples, loop }) {
  const measured = samples.filter((s) => s.t - startedAt >= WARMUP_MS);
  const first = measured[0];
  const last = measured.at(-1);
  const at = (ms) => measured.find((s) => s.t - first.t >= ms) ?? last;
  const firstWindow = cpuPerTick(first, at(WINDOW_MS));
  const lastWindow = cpuPerTick(measured.findLast((s) => last.t - s.t >= WINDOW_MS) ?? first, last);
  const inFirst = (s) => s.t - first.t <= WINDOW_MS;
  const inLast = (s) => last.t - s.t <= WINDOW_MS;
  const rss = measured.map((s) => s.rss / 1e6);
  const loopIn = (from, to) => loop.filter((line) => Date.parse(line.at) > from && Date.parse(line.at) <= to);
  return {
    name,
    probe,
    rssMB: {
      start: rss[0],
      end: rss.at(-1),
      medianFirstWindow: median(measured.filter(inFirst).map((s) => s.rss / 1e6)),
      medianLastWindow: median(measured.filter(inLast).map((s) => s.rss / 1e6)),
      min: Math.min(...rss),
      max: Math.max(...rss),
      slopePerHour: slopePerHour(measured, (s) => s.rss / 1e6),
      series: rss.map((value) => Math.round(value * 100) / 100),
      // the samples of the warm-up too (seconds since the agent was started), so "start" can be read either way
      warmupSeries: samples.filter((s) => s.t - startedAt < WARMUP_MS).map((s) => ({ atS: Math.round((s.t - startedAt) / 1000), mb: Math.round((s.rss / 1e6) * 100) / 100 })),
    },
    fds: { start: first.fds, end: last.fds, min: Math.min(...measured.map((s) => s.fds)), max: Math.max(...measured.map((s) => s.fds)), series: measured.map((s) => s.fds) },
    threads: { start: first.threads, end: last.threads },
    cpuPerTick: { first: firstWindow, last: lastWindow, whole: cpuPerTick(first, last) },
    ticks: { measured: last.ticks - first.ticks, total: last.ticks, skipped: last.skipped },
    loopDelayMs: probe
      ? { p99First: worst(loopIn(first.t - 60_000, first.t + WINDOW_MS), "p99"), p99Last: worst(loopIn(last.t - WINDOW_MS, last.t + 60_000), "p99"), p99Worst: worst(loop, "p99"), maxWorst: worst(loop, "max"), minutes: loop }
      : undefined,
    sinkAtEnd: last.sinks?.map(({ sink, state, depth, delivered, failures }) => ({ sink, state, depth, delivered, failures })),
  };
}

const allSamples = agents.flatMap((agent) => agent.samples);
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`,
  minutes: DURATION_MS / 60_000,
  warmupS: WARMUP_MS / 1000,
  latencyMs: values.latency,
  machineLoad: { min: Math.min(...allSamples.map((s) => s.machineLoad)), max: Math.max(...allSamples.map((s) => s.machineLoad)), mean: allSamples.reduce((sum, s) => sum + s.machineLoad, 0) / allSamples.length },
  s3: requests,
  agents: agents.map(summarize),
};
const f = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const w = values.window;
console.log(`${result.date} · ${result.machine} · ${result.minutes} min after ${result.warmupS} s warm-up · S3 latency ${result.latencyMs} ms · load average ${f(result.machineLoad.min)}-${f(result.machineLoad.max)} (mean ${f(result.machineLoad.mean)})`);
console.log(`| figure | ${result.agents.map((a) => `${a.name}: first ${w} min | ${a.name}: last ${w} min | ${a.name}: change`).join(" | ")} |`);
console.log(`| --- |${" ---: | ---: | --- |".repeat(result.agents.length)}`);
const row = (label, pick) => console.log(`| ${label} | ${result.agents.map((a) => pick(a).join(" | ")).join(" | ")} |`);
row("RSS MB, median of the window", (a) => [f(a.rssMB.medianFirstWindow), f(a.rssMB.medianLastWindow), `${f(a.rssMB.medianLastWindow - a.rssMB.medianFirstWindow)} (trend ${f(a.rssMB.slopePerHour)} MB/h; min ${f(a.rssMB.min)}, max ${f(a.rssMB.max)})`]);
row("RSS MB, first and last sample", (a) => [f(a.rssMB.start), f(a.rssMB.end), f(a.rssMB.end - a.rssMB.start)]);
row("open descriptors", (a) => [a.fds.start, a.fds.end, `${a.fds.end - a.fds.start} (min ${a.fds.min}, max ${a.fds.max})`]);
row("CPU ms/tick, schedstat", (a) => [f(a.cpuPerTick.first.schedMs), f(a.cpuPerTick.last.schedMs), `${f(a.cpuPerTick.last.schedMs - a.cpuPerTick.first.schedMs)} (whole run ${f(a.cpuPerTick.whole.schedMs)})`]);
row("CPU ms/tick, /proc/PID/stat", (a) => [f(a.cpuPerTick.first.statMs), f(a.cpuPerTick.last.statMs), f(a.cpuPerTick.last.statMs - a.cpuPerTick.first.statMs)]);
row("event-loop delay p99 ms, worst minute", (a) => (a.loopDelayMs ? [f(a.loopDelayMs.p99First), f(a.loopDelayMs.p99Last), `worst minute ${f(a.loopDelayMs.p99Worst)}, max ${f(a.loopDelayMs.maxWorst)}`] : ["–", "–", "(no probe)"]));
row("threads", (a) => [a.threads.start, a.threads.end, ""]);
row("ticks (skipped)", (a) => [`${a.ticks.total} (${a.ticks.skipped})`, "", ""]);
console.log(`S3 requests, both agents: ${JSON.stringify(requests.byMethod)}; sinks at end: ${JSON.stringify(result.agents.map((a) => a.sinkAtEnd))}`);
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
