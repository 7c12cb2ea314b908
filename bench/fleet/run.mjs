// Fleet simulation: N hosts, each a real agent pipeline (Runtime + synthetic collectors + the s3 sink + the
// wall-clock scheduler), spread over a few worker processes, against the local S3 server with conditional writes
// and 20-50 ms added latency per request. This process runs the S3 server and polls list.json continuously.
// Usage: node bench/fleet/run.mjs [--fleet HOSTS:INTERVAL_S:REFRESH_S:SECONDS[:PHASE_S[:RAMP_S[:WARMUP_S]]]]...
//          [--together] [--workers 2] [--json FILE]      (after `npm run build`)
//   --fleet 100:1:30:90  100 hosts at 1 s, listRefreshSeconds 30, run for 90 s; the hosts start one after the
//                        other over RAMP_S (default 10), and the first WARMUP_S (default RAMP_S + 10) are not counted.
//   --together           run the --fleet's at once, each under its own prefix (its own list.json), each on its
//                        own phase (a 60 s fleet with PHASE_S 20 fires at :20); otherwise one after the other.
// Without --fleet: the matrix in BENCHMARKS.md.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startS3Server } from "../../packages/s3-test-server/dist/src/index.js";
import { readHostList } from "../../packages/layout/dist/src/index.js";

const { values } = parseArgs({
  options: {
    fleet: { type: "string", multiple: true },
    together: { type: "boolean", default: false },
    workers: { type: "string", default: "2" },
    latency: { type: "string", default: "20,50" },
    "poll-ms": { type: "string", default: "100" },
    json: { type: "string" },
  },
});
// Groups run one after the other; the fleets of a group run at once. 1000 hosts at 1 s do not fit two cores in
// real time (ticks are skipped and counted); 1000 hosts at 10 s with listRefreshSeconds 240 put the same load on
// list.json as 1000 hosts at 1 s with that setting (a listed host refreshes its entry on its own timer, whatever
// the interval), at a tenth of the history and <host>.json traffic. `--workers 12` on a larger machine runs the
// real thing: --fleet 1000:1:240:540:0:60:70.
const DEFAULT_MATRIX = [
  ["10:1:0:80"],
  ["100:1:0:80"],
  ["10:1:60:200:0:10:20"],
  ["100:1:60:200:0:10:20"],
  ["1000:10:240:600:0:60:70"],
  ["10:60:0:330:0:10:20", "100:60:0:330:20:10:20", "1000:60:0:330:40:30:40"],
  ["1000:60:240:600:0:30:40"],
];
const BUCKET = "fleet-bench";
const AGENTS = fileURLToPath(new URL("./agents.mjs", import.meta.url));
const LATENCY = values.latency.split(",").map(Number);
const WORKERS = Number(values.workers);
const POLL_MS = Number(values["poll-ms"]);
// AWS S3 Standard, us-east-1, per-request prices as published on https://aws.amazon.com/s3/pricing/ (taken as of 2026).
const PRICE = { putPer1000: 0.005, getPer1000: 0.0004, asOf: "2026", region: "us-east-1" };
const MONTH_S = 730 * 3600; // AWS bills a month as 730 hours

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "fleet-bench", AWS_EC2_METADATA_DISABLED: "true", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });

function parseFleet(spec, index) {
  const [hosts, interval, refresh, seconds, phase = 0, ramp = 10, warmup = ramp + 10] = spec.split(":").map(Number);
  if (![hosts, interval, refresh, seconds, phase, ramp, warmup].every(Number.isFinite) || warmup >= seconds) {
    throw new Error(`--fleet ${spec}: expected HOSTS:INTERVAL_S:REFRESH_S:SECONDS[:PHASE_S[:RAMP_S[:WARMUP_S]]], warm-up shorter than the run`);
  }
  return { name: `n${hosts}-i${interval}s-r${refresh}s`, prefix: `f${index}-n${hosts}-i${interval}-r${refresh}`, hosts, intervalS: interval, refreshS: refresh, seconds, phaseS: phase, rampS: ramp, warmupS: warmup };
}

// ---- CPU of the machine and of our processes, from /proc
function machineCpu() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  return { busy: fields.reduce((a, b) => a + b, 0) - idle, total: fields.reduce((a, b) => a + b, 0) };
}

// ---- list.json watcher. A host is "uploading" from the moment its first <host>.json is stored, and **live** from
// the first poll that shows it in list.json (its first successful listing). A live host is **missing** while a
// poll does not show it. Polls every POLL_MS; a gap shorter than the poll period can go unseen.
function watchList(server, fleet) {
  const uploading = new Map(); // host -> when its <host>.json was first stored
  const missingSince = new Map();
  const firstListedAfterMs = [];
  const listed = new Set();
  const dropouts = [];
  let polls = 0;
  let worstPollGapMs = 0;
  let worstEntryAgeMs = 0; // the oldest entry of an uploading host any poll saw (expires past 300 s)
  let running = true;
  const url = `${server.endpoint}/${BUCKET}/${fleet.prefix}/list.json`;
  const loop = (async () => {
    let last = performance.now();
    while (running) {
      const response = await fetch(url).catch(() => undefined);
      const text = response?.ok ? await response.text() : undefined;
      const now = Date.now();
      const hosts = text === undefined ? new Map() : readHostList(text)?.hosts;
      if (!hosts) throw new Error(`${url} is no host list`);
      for (const [host, since] of uploading) {
        if (hosts.has(host)) {
          worstEntryAgeMs = Math.max(worstEntryAgeMs, now - (hosts.get(host) ?? now));
          if (!listed.has(host)) firstListedAfterMs.push(now - since);
          else if (missingSince.has(host)) dropouts.push(now - missingSince.get(host));
          listed.add(host);
          missingSince.delete(host);
        } else if (listed.has(host) && !missingSince.has(host)) missingSince.set(host, now);
      }
      polls += 1;
      const elapsed = performance.now() - last;
      worstPollGapMs = Math.max(worstPollGapMs, elapsed);
      last = performance.now();
      await sleep(Math.max(0, POLL_MS - elapsed));
    }
  })();
  return {
    live: uploading,
    async stop() {
      running = false;
      await loop;
      const now = Date.now();
      const neverListed = [...uploading].filter(([host]) => !listed.has(host)).map(([, since]) => now - since);
      const stillMissing = [...missingSince.values()].map((since) => now - since);
      return { polls, worstPollGapMs, worstEntryAgeMs, uploadingHosts: uploading.size, liveHosts: listed.size, firstListedAfterMs, neverListed, dropouts, stillMissing };
    },
  };
}

function startWorkers(server, fleet, stateRoot) {
  const names = Array.from({ length: fleet.hosts }, (_, index) => `${fleet.prefix}-host${String(index).padStart(4, "0")}`);
  const count = Math.min(WORKERS, fleet.hosts);
  const watcher = watchList(server, fleet);
  const workers = Array.from({ length: count }, (_, index) => {
    const child = fork(AGENTS, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--max-old-space-size=4096"] });
    child.send({
      endpoint: server.endpoint,
      bucket: BUCKET,
      prefix: fleet.prefix,
      hosts: names.filter((_, n) => n % count === index),
      intervalMs: fleet.intervalS * 1000,
      listRefreshSeconds: fleet.refreshS,
      phaseMs: -fleet.phaseS * 1000,
      rampMs: fleet.rampS * 1000,
      warmupSeconds: fleet.warmupS,
      seconds: fleet.seconds,
      stateRoot: join(stateRoot, `${fleet.prefix}-w${index}`),
    });
    const done = new Promise((resolve, reject) => {
      child.on("message", (message) => {
        if (message.live) watcher.live.set(message.live, message.at);
        if (message.done) resolve(message.done);
      });
      // Not at "exit": a large report can still be in the IPC pipe when the worker has exited; the channel closes after it.
      child.on("exit", (code) => code !== 0 && reject(new Error(`fleet worker exited with ${code} before reporting`)));
      child.on("disconnect", () => reject(new Error("fleet worker closed its channel before reporting")));
    });
    return { child, done };
  });
  return { fleet, watcher, workers };
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
const max = (list) => list.reduce((a, b) => Math.max(a, b), 0);

function combine(reports) {
  const total = { ticks: {}, requests: {}, writeErrors: {}, live: [], replay: [], refreshGaps: [], listUpdateMs: [], cpuMs: 0, sdkRetries: 0, listRetries: 0, listGiveUps: 0, delivered: 0, replayed: 0, spoolDepthAtEnd: 0, dropped: 0 };
  const add = (into, from) => Object.entries(from ?? {}).forEach(([key, value]) => (into[key] = (into[key] ?? 0) + value));
  for (const report of reports) {
    add(total.ticks, report.ticks);
    add(total.requests, report.requests);
    add(total.writeErrors, report.writeErrors);
    total.live.push(...report.writeMs.live);
    total.refreshGaps.push(...report.refreshGaps);
    total.replay.push(...report.writeMs.replay);
    total.listUpdateMs.push(...report.listUpdateMs);
    for (const key of ["cpuMs", "sdkRetries", "listRetries", "listGiveUps", "delivered", "replayed", "spoolDepthAtEnd", "dropped"]) total[key] += report[key];
  }
  total.live.sort((a, b) => a - b);
  total.listUpdateMs.sort((a, b) => a - b);
  total.replay.sort((a, b) => a - b);
  return total;
}

/** Figures of one fleet over its measured window (after the warm-up). */
function summarize(fleet, total, watch, cpu) {
  const measuredS = fleet.seconds - fleet.warmupS;
  const hostMinutes = (fleet.hosts * measuredS) / 60;
  const samples = total.ticks.ran;
  const count = (pattern) => Object.entries(total.requests).filter(([label]) => pattern.test(label)).reduce((sum, [, n]) => sum + n, 0);
  const perTick = (pattern) => count(pattern) / samples;
  const perHostMinute = (pattern) => count(pattern) / hostMinutes;
  const listPuts = count(/^PUT list\.json/);
  const listGets = count(/^GET list\.json/);
  const otherPuts = count(/^PUT (?!list\.json)/);
  const otherGets = count(/^GET (?!list\.json)/) + count(/^ListObjectsV2/);
  // Monthly: per-sample requests × samples a month at the configured interval, list.json requests by time.
  const samplesPerMonth = MONTH_S / fleet.intervalS;
  const putsPerMonth = (otherPuts / samples) * samplesPerMonth + (listPuts / hostMinutes) * (MONTH_S / 60);
  const getsPerMonth = (otherGets / samples) * samplesPerMonth + (listGets / hostMinutes) * (MONTH_S / 60);
  const gaps = [...watch.dropouts, ...watch.stillMissing];
  return {
    fleet: fleet.name,
    hosts: fleet.hosts,
    intervalS: fleet.intervalS,
    listRefreshSeconds: fleet.refreshS,
    measuredS,
    samples,
    expectedSamples: Math.round((fleet.hosts * measuredS) / fleet.intervalS),
    skippedTicks: total.ticks.skipped,
    spooledTicks: total.ticks.spooled,
    perHostPerTick: {
      putHistory: perTick(/^PUT history/),
      putLatest: perTick(/^PUT latest/),
      getList: perTick(/^GET list\.json/),
      putList: perTick(/^PUT list\.json/),
      getOther: perTick(/^GET (?!list\.json)/),
      all: count(/./) / samples,
    },
    listWritesPerHostMinute: count(/^PUT list\.json ok/) / hostMinutes,
    listPutsPerHostMinute: perHostMinute(/^PUT list\.json/),
    conflictsPerMinute: count(/^PUT list\.json conflict/) / (measuredS / 60),
    // A retry: a list.json GET by a host right after its PUT lost. A give-up: a host starting a new list.json update
    // while its last one never got a PUT through (it lost maxAttempts times, or found its entry fresh and wrote nothing).
    listRetriesPerMinute: total.listRetries / (measuredS / 60),
    listGiveUpsPerMinute: total.listGiveUps / (measuredS / 60),
    listUpdateMs: { p50: percentile(total.listUpdateMs, 0.5), p99: percentile(total.listUpdateMs, 0.99), max: max(total.listUpdateMs), updates: total.listUpdateMs.length },
    sinkWriteErrors: total.writeErrors,
    replayedWrites: total.replay.length,
    sdkRetries: total.sdkRetries,
    spoolDepthAtEnd: total.spoolDepthAtEnd,
    uploadMs: { p50: percentile(total.live, 0.5), p99: percentile(total.live, 0.99), max: max(total.live), writes: total.live.length },
    replayMs: { p50: percentile(total.replay, 0.5), p99: percentile(total.replay, 0.99) },
    list: {
      uploadingHosts: watch.uploadingHosts,
      liveHosts: watch.liveHosts,
      polls: watch.polls,
      worstPollGapMs: Math.round(watch.worstPollGapMs),
      worstEntryAgeMs: watch.worstEntryAgeMs,
      firstListedAfterMs: { p50: percentile(watch.firstListedAfterMs.sort((a, b) => a - b), 0.5), max: max(watch.firstListedAfterMs) },
      neverListed: watch.neverListed.length,
      neverListedWorstMs: max(watch.neverListed),
      dropouts: gaps.length,
      // The target: the longest a live host (listed at least once) was absent from list.json.
      worstMissingMs: max(gaps),
      // Before the first listing: from the first <host>.json to the first poll that lists the host.
      worstUnlistedMs: Math.max(max(watch.firstListedAfterMs), max(watch.neverListed)),
    },
    worstListRefreshGapMs: max(total.refreshGaps),
    listRefreshGapOver300s: total.refreshGaps.filter((gap) => gap > 300_000).length,
    costPerHostMonthUSD: (putsPerMonth * PRICE.putPer1000 + getsPerMonth * PRICE.getPer1000) / 1000,
    requestsByKind: total.requests,
    cpu: { ...cpu, workerCores: total.cpuMs / 1000 / measuredS },
  };
}

async function runFleets(server, fleets) {
  const stateRoot = await mkdtemp(join(tmpdir(), "rm-fleet-"));
  const load = loadavg()[0];
  const runs = fleets.map((fleet) => startWorkers(server, fleet, stateRoot));
  // This process (the S3 server and the list.json poller) and the machine, over the first fleet's measured window.
  let atWarmup;
  const snapshot = () => ({ cpu: process.cpuUsage(), machine: machineCpu() });
  const warm = sleep(fleets[0].warmupS * 1000).then(() => (atWarmup = snapshot()));
  let atEnd;
  const results = [];
  for (const run of runs) {
    const reports = await Promise.all(run.workers.map((worker) => worker.done));
    atEnd ??= snapshot();
    const watch = await run.watcher.stop();
    results.push({ run, total: combine(reports), watch });
  }
  await warm;
  await rm(stateRoot, { recursive: true, force: true });
  const measuredS = fleets[0].seconds - fleets[0].warmupS;
  const cpu = {
    serverAndPollerCores: (atEnd.cpu.user + atEnd.cpu.system - atWarmup.cpu.user - atWarmup.cpu.system) / 1e6 / measuredS,
    machineBusyPercent: (100 * (atEnd.machine.busy - atWarmup.machine.busy)) / (atEnd.machine.total - atWarmup.machine.total),
    loadBefore: load,
    cores: cpus().length,
  };
  return results.map(({ run, total, watch }) => summarize(run.fleet, total, watch, cpu));
}

const groups = values.fleet ? (values.together ? [values.fleet] : values.fleet.map((spec) => [spec])) : DEFAULT_MATRIX;
let fleetCount = 0;
const plan = groups.map((group) => group.map((spec) => parseFleet(spec, fleetCount++)));
const server = await startS3Server({ buckets: [BUCKET], conditional: true, latencyMs: LATENCY, recordRequests: false });
const results = [];
try {
  for (const fleets of plan) {
    process.stderr.write(`${new Date().toISOString()} running ${fleets.map((fleet) => fleet.name).join(" + ")} for ${fleets[0].seconds} s…\n`);
    results.push(...(await runFleets(server, fleets)));
  }
} finally {
  await server.close();
}

const fixed = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const ms = (value) => (Number.isFinite(value) ? `${Math.round(value)}` : "–");
console.log(`${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model}, Linux ${release()}, Node ${process.version} · latency ${LATENCY.join("-")} ms/request, conditional writes on · warm-up excluded`);
console.log("| hosts | interval | listRefreshSeconds | samples (expected) | skipped ticks | ticks spooled | PUT history/latest/list per tick | GET list/other per tick | list.json writes per host·min | conflicts / retries / give-ups per min | upload p50/p99 ms | list.json update p50/p99 ms | live host missing from list.json: worst (times) | first listing: p50 / worst (never listed) | worst gap between a host's list.json writes · oldest entry seen | \\$/host·month | CPU cores: agents / S3 server | machine busy |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const t = r.perHostPerTick;
  const l = r.list;
  console.log(`| ${r.hosts} | ${r.intervalS} s | ${r.listRefreshSeconds} | ${r.samples} (${r.expectedSamples}) | ${r.skippedTicks} | ${r.spooledTicks} | ${fixed(t.putHistory)} / ${fixed(t.putLatest)} / ${fixed(t.putList, 3)} | ${fixed(t.getList, 3)} / ${fixed(t.getOther)} | ${fixed(r.listWritesPerHostMinute, 3)} | ${fixed(r.conflictsPerMinute, 1)} / ${fixed(r.listRetriesPerMinute, 1)} / ${fixed(r.listGiveUpsPerMinute, 1)} | ${ms(r.uploadMs.p50)} / ${ms(r.uploadMs.p99)} | ${ms(r.listUpdateMs.p50)} / ${ms(r.listUpdateMs.p99)} | ${fixed(l.worstMissingMs / 1000, 1)} s (${l.dropouts}) | ${fixed(l.firstListedAfterMs.p50 / 1000, 1)} / ${fixed(l.worstUnlistedMs / 1000, 1)} s (${l.neverListed}) | ${fixed(r.worstListRefreshGapMs / 1000, 1)} s · ${fixed(l.worstEntryAgeMs / 1000, 1)} s | ${fixed(r.costPerHostMonthUSD, 3)} | ${fixed(r.cpu.workerCores)} / ${fixed(r.cpu.serverAndPollerCores)} | ${fixed(r.cpu.machineBusyPercent, 0)} % |`);
}
if (values.json) await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), latencyMs: LATENCY, price: PRICE, monthSeconds: MONTH_S, workers: WORKERS, results }, null, 2)}\n`);
