// Soak: `resourcemonitor run` (a real process, the default preset) at 1 s for 30 minutes with the S3 sink against
// the local S3 server (conditional writes on, 20-50 ms added latency per request). Every 10 s it reads the
// agent's /proc: RSS, open descriptors, CPU (utime+stime from stat, and every thread's schedstat), and the
// agent's status file (ticks, skipped slots). Event-loop delay comes from bench/soak/loop-delay.mjs, loaded into
// the agent with NODE_OPTIONS=--import (opt-in, the agent's code unchanged).
// Usage: node bench/soak/run.mjs [--minutes 30] [--window 5] [--warmup 60] [--latency 20,50] [--no-probe] [--json FILE]
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
    "no-probe": { type: "boolean", default: false },
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
const loopFile = join(dir, "loop-delay.jsonl");
const stateDir = join(dir, "state");
const server = await startS3Server({ buckets: [BUCKET], conditional: true, latencyMs: values.latency.split(",").map(Number), recordRequests: false });
const agentEnv = {
  ...process.env,
  S3_BUCKET_NAME: BUCKET,
  AWS_ENDPOINT_URL_S3: server.endpoint,
  S3_FORCE_PATH_STYLE: "true",
  AWS_ACCESS_KEY_ID: "soak",
  AWS_SECRET_ACCESS_KEY: "soak-secret",
  AWS_EC2_METADATA_DISABLED: "true",
  RESOURCEMONITOR_ENV_FILE: join(dir, "no-such-env-file"),
  ...(values["no-probe"] ? {} : { NODE_OPTIONS: `--import=${fileURLToPath(new URL("./loop-delay.mjs", import.meta.url))}`, RESOURCEMONITOR_SOAK_LOOP_FILE: loopFile }),
};
const agent = spawn(join(root, "packages/agent/bin/resourcemonitor.js"), ["run", "--interval", "1", "--hostname", "soak-host", "--data-dir", join(dir, "data"), "--state-dir", stateDir, "--log-level", "warn"], {
  cwd: root,
  env: agentEnv,
  stdio: ["ignore", "ignore", "pipe"],
});
let agentLog = "";
agent.stderr.on("data", (chunk) => (agentLog = (agentLog + chunk).slice(-20_000)));
const exited = new Promise((resolve) => agent.on("exit", (code, signal) => resolve(code ?? signal)));

const samples = [];
const startedAt = Date.now();
try {
  process.stderr.write(`soak: agent pid ${agent.pid}, ${values.minutes} min (+${WARMUP_MS / 1000} s warm-up), sampling every ${SAMPLE_EVERY_MS / 1000} s…\n`);
  while (Date.now() - startedAt < WARMUP_MS + DURATION_MS) {
    await sleep(SAMPLE_EVERY_MS - ((Date.now() - startedAt) % SAMPLE_EVERY_MS));
    if (agent.exitCode !== null || agent.signalCode !== null) throw new Error(`the agent exited early (${agent.exitCode ?? agent.signalCode}): ${agentLog}`);
    samples.push(sampleAgent(agent.pid, stateDir));
  }
} finally {
  agent.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  if (agent.exitCode === null && agent.signalCode === null) agent.kill("SIGKILL");
}
const requests = server.counts();
await server.close();
const loop = (await readFile(loopFile, "utf8").catch(() => "")).trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)).filter((line) => line.samples > 0);
await rm(dir, { recursive: true, force: true });

const measured = samples.filter((s) => s.t - startedAt >= WARMUP_MS);
const first = measured[0];
const last = measured.at(-1);
const at = (ms) => measured.find((s) => s.t - first.t >= ms) ?? last;
const firstWindow = cpuPerTick(first, at(WINDOW_MS));
const lastWindow = cpuPerTick(measured.findLast((s) => last.t - s.t >= WINDOW_MS) ?? first, last);
const loopIn = (from, to) => loop.filter((line) => Date.parse(line.at) > from && Date.parse(line.at) <= to);
const worst = (lines, field) => (lines.length === 0 ? Number.NaN : Math.max(...lines.map((line) => line[field])));
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const firstRss = median(measured.filter((s) => s.t - first.t <= WINDOW_MS).map((s) => s.rss)) / 1e6;
const lastRss = median(measured.filter((s) => last.t - s.t <= WINDOW_MS).map((s) => s.rss)) / 1e6;
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`,
  minutes: DURATION_MS / 60_000,
  warmupS: WARMUP_MS / 1000,
  latencyMs: values.latency,
  probe: !values["no-probe"],
  rssMB: { start: first.rss / 1e6, end: last.rss / 1e6, growth: (last.rss - first.rss) / 1e6, medianFirstWindow: firstRss, medianLastWindow: lastRss, medianGrowth: lastRss - firstRss, min: Math.min(...measured.map((s) => s.rss)) / 1e6, max: Math.max(...measured.map((s) => s.rss)) / 1e6, slopePerHour: slopePerHour(measured, (s) => s.rss / 1e6) },
  fds: { start: first.fds, end: last.fds, min: Math.min(...measured.map((s) => s.fds)), max: Math.max(...measured.map((s) => s.fds)), series: measured.map((s) => s.fds) },
  threads: { start: first.threads, end: last.threads },
  cpuPerTick: { first: firstWindow, last: lastWindow, whole: cpuPerTick(first, last) },
  ticks: { total: last.ticks, skipped: last.skipped },
  loopDelayMs: {
    p99First: worst(loopIn(first.t, first.t + WINDOW_MS), "p99"),
    p99Last: worst(loopIn(last.t - WINDOW_MS, last.t), "p99"),
    p99Worst: worst(loop, "p99"),
    maxWorst: worst(loop, "max"),
    minutes: loop,
  },
  s3: requests,
  sinkAtEnd: last.sinks,
  machineLoad: { min: Math.min(...samples.map((s) => s.machineLoad)), max: Math.max(...samples.map((s) => s.machineLoad)), mean: samples.reduce((a, s) => a + s.machineLoad, 0) / samples.length },
  rssSeriesMB: measured.map((s) => Math.round(s.rss / 1e4) / 100),
};
const f = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
console.log(`${result.date} · ${result.machine} · ${result.minutes} min after ${result.warmupS} s warm-up · S3 latency ${result.latencyMs} ms · load average ${f(result.machineLoad.min)}-${f(result.machineLoad.max)}`);
console.log("| figure | first | last | change |");
console.log("| --- | ---: | ---: | ---: |");
console.log(`| RSS MB | ${f(result.rssMB.start)} | ${f(result.rssMB.end)} | ${f(result.rssMB.growth)} (trend ${f(result.rssMB.slopePerHour)} MB/h; min ${f(result.rssMB.min)}, max ${f(result.rssMB.max)}) |`);
console.log(`| RSS MB, median of the first / last ${values.window} min | ${f(result.rssMB.medianFirstWindow)} | ${f(result.rssMB.medianLastWindow)} | ${f(result.rssMB.medianGrowth)} |`);
console.log(`| open descriptors | ${result.fds.start} | ${result.fds.end} | ${result.fds.end - result.fds.start} (min ${result.fds.min}, max ${result.fds.max}) |`);
console.log(`| CPU ms/tick, schedstat (first / last ${values.window} min) | ${f(firstWindow.schedMs)} | ${f(lastWindow.schedMs)} | ${f(lastWindow.schedMs - firstWindow.schedMs)} |`);
console.log(`| CPU ms/tick, /proc/PID/stat (first / last ${values.window} min) | ${f(firstWindow.statMs)} | ${f(lastWindow.statMs)} | ${f(lastWindow.statMs - firstWindow.statMs)} |`);
console.log(`| event-loop delay p99 ms (worst minute in first / last ${values.window} min) | ${f(result.loopDelayMs.p99First)} | ${f(result.loopDelayMs.p99Last)} | worst minute ${f(result.loopDelayMs.p99Worst)}, max ${f(result.loopDelayMs.maxWorst)} |`);
console.log(`| threads | ${result.threads.start} | ${result.threads.end} | |`);
console.log(`ticks ${result.ticks.total}, skipped ${result.ticks.skipped}; S3 requests ${JSON.stringify(requests.byMethod)}; sink at end ${JSON.stringify(result.sinkAtEnd?.map(({ sink, state, depth, delivered, failures }) => ({ sink, state, depth, delivered, failures })))}`);
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
