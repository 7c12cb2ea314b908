// Child process of bench/fleet/run.mjs: hosts many agent pipelines (Runtime + synthetic collectors with the real
// plugins' fragment schemas + the s3 sink + the wall-clock Scheduler, as `resourcemonitor run` wires them) and
// measures them without changing them: every S3 request is counted by kind and outcome at node:http's request()
// (the real request still goes out), every sink write is timed at the emit tap.
// Messages to the parent (IPC): { live: host, at } once a host's <host>.json was first stored; { done: stats } at the end.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";
import { createLogger, definePlugin, Runtime, RUNTIME_API_VERSION, Scheduler } from "../../packages/runtime/dist/src/index.js";
import s3Sink from "../../packages/sink-s3/dist/src/index.js";
import cpuPlugin from "../../packages/plugin-cpu/dist/src/index.js";
import memoryPlugin from "../../packages/plugin-memory/dist/src/index.js";
import thermalPlugin from "../../packages/plugin-thermal/dist/src/index.js";
import nvidiaPlugin from "../../packages/plugin-nvidia/dist/src/index.js";

const config = await new Promise((resolve) => process.once("message", resolve));
const { endpoint, bucket, prefix, hosts, intervalMs, listRefreshSeconds, phaseMs, rampMs, warmupSeconds, seconds, stateRoot } = config;
const normalizedPrefix = prefix ? `${prefix}/` : "";

// ---- what one host's collectors would report: values move a little every tick, the shape is a real machine's
const round = (value) => Math.round(value * 10) / 10;
const jiggle = (base, spread) => round(Math.max(0, Math.min(100, base + (Math.random() - 0.5) * spread)));
const GIB = 1024 ** 3;

function synthetic(real, fragment) {
  return definePlugin({
    apiVersion: RUNTIME_API_VERSION,
    name: `synthetic-${real.name}`,
    kind: "collector",
    description: `${real.name}'s fragment, made up (validated against the real plugin's fragment schema)`,
    optionsSchema: { type: "object", properties: {} },
    fragmentSchema: real.fragmentSchema,
    apply({ hooks }) {
      hooks.collect.tapPromise(`synthetic-${real.name}`, async (sample) => sample.merge(fragment()));
    },
  });
}

const COLLECTORS = [
  synthetic(cpuPlugin, () => {
    const perCore = Array.from({ length: 8 }, () => jiggle(25, 30));
    return {
      cpu: {
        usage_percent: round(perCore.reduce((sum, value) => sum + value, 0) / perCore.length),
        usage_per_core: perCore,
        frequency: { current: round(2400 + Math.random() * 800), min: 800, max: 3200 },
        count_logical: 8,
        count_physical: 4,
      },
    };
  }),
  synthetic(memoryPlugin, () => {
    const total = 16 * GIB;
    const used = Math.round(total * (0.4 + Math.random() * 0.2));
    return {
      memory: {
        virtual: { total, available: total - used, used, percent: round((used / total) * 100), free: total - used },
        swap: { total: 2 * GIB, used: 0, free: 2 * GIB, percent: 0 },
      },
    };
  }),
  synthetic(thermalPlugin, () => ({
    cpu: {
      temperatures: [
        { sensor: "coretemp_Package id 0", temperature: round(45 + Math.random() * 5), high: 100, critical: 105 },
        { sensor: "coretemp_Core 0", temperature: round(43 + Math.random() * 5), high: 100, critical: 105 },
      ],
    },
  })),
  synthetic(nvidiaPlugin, () => {
    const total = 16 * GIB;
    const used = Math.round(total * Math.random() * 0.3);
    return {
      gpu: [{
        index: 0,
        name: "NVIDIA GeForce RTX 4080",
        memory: { total, used, free: total - used, percent: round((used / total) * 100) },
        utilization: { gpu: Math.round(Math.random() * 30), memory: Math.round(Math.random() * 20) },
        temperature: 42,
        power_usage_watts: round(40 + Math.random() * 20),
        fan_speed_percent: 30,
      }],
    };
  }),
];

// ---- request counting at node:http's request(), under whatever the sink sends with (the AWS SDK's handler or its
// own signed requests): kind of key, method, outcome. Each sink has its own keep-alive agent (one per S3 client
// and transport), which tells the hosts apart; a host's agents are learned from its first <host>.json PUT.
const requests = new Map(); // "PUT history ok" -> n
const sdkRetries = 0; // retries are counted as the requests they are
const liveHosts = new Set();
const hostOfAgent = new WeakMap();
const listWrites = new Map(); // host -> { live, last, worstGapMs }
const listKeyPath = `${normalizedPrefix}list.json`;
// Per agent: its last list.json PUT lost (412); when its current list.json update started (first GET).
const lostRace = new WeakSet();
const updateStarted = new WeakMap();
let listRetries = 0;
let listGiveUps = 0;
const listUpdateMs = [];
const NO_AGENT = {};

function keyOf(path) {
  const [pathname, query = ""] = path.split("?");
  const key = decodeURIComponent(pathname.slice(`/${bucket}/`.length));
  return { key: pathname.length <= bucket.length + 2 ? "" : key, query };
}

function kindOf(method, path) {
  const { key, query } = keyOf(path);
  if (key === "" && query.includes("list-type=2")) return { kind: "ListObjectsV2", key };
  const what = key === listKeyPath ? "list.json" : key.includes("/history/") || key.startsWith("history/") ? "history" : key.includes(".resourcemonitor/probe-") ? "probe" : key.endsWith(".json") ? "latest" : "other";
  return { kind: `${method} ${what}`, key };
}

function outcomeOf(status) {
  if (status >= 200 && status < 300) return "ok";
  if (status === 412 || status === 409) return "conflict";
  if (status === 404) return "404";
  return `error ${status}`;
}

function counted(kind, outcome) {
  const label = `${kind} ${outcome}`;
  requests.set(label, (requests.get(label) ?? 0) + 1);
}

function listReadStarts(agent) {
  // A read of list.json right after this host lost a compare-and-swap is a retry of the same update. A read that
  // starts a new update while the last one never got its PUT through: that one gave up (or found its entry fresh).
  if (lostRace.has(agent)) listRetries += 1;
  else {
    if (updateStarted.has(agent)) listGiveUps += 1;
    updateStarted.set(agent, performance.now());
  }
  lostRace.delete(agent);
}

function answered(kind, key, outcome, agent) {
  counted(kind, outcome);
  if (kind === "PUT latest" && outcome === "ok" && !liveHosts.has(key)) {
    const host = key.slice(normalizedPrefix.length, -".json".length);
    liveHosts.add(key);
    listWrites.set(host, { live: Date.now(), last: undefined, worstGapMs: 0 });
    process.send({ live: host, at: Date.now() });
  }
  if (kind === "PUT latest" && outcome === "ok") hostOfAgent.set(agent, key.slice(normalizedPrefix.length, -".json".length));
  if (kind !== "PUT list.json") return;
  if (outcome === "conflict") return void lostRace.add(agent);
  if (outcome !== "ok") return;
  const writes = listWrites.get(hostOfAgent.get(agent));
  if (writes) {
    writes.worstGapMs = Math.max(writes.worstGapMs, Date.now() - (writes.last ?? writes.live));
    writes.last = Date.now();
  }
  const started = updateStarted.get(agent);
  if (started !== undefined) listUpdateMs.push(performance.now() - started);
  updateStarted.delete(agent);
}

const originalRequest = http.request;
http.request = function request(...args) {
  const outgoing = originalRequest.apply(this, args);
  const { kind, key } = kindOf(outgoing.method, outgoing.path);
  const agent = outgoing.agent || NO_AGENT;
  if (kind === "GET list.json") listReadStarts(agent);
  outgoing.once("response", (response) => answered(kind, key, outcomeOf(response.statusCode), agent));
  outgoing.once("error", (error) => counted(kind, `error ${error.code ?? error.name}`));
  return outgoing;
};
syncBuiltinESMExports();

// ---- the s3 sink with each write timed; the sink itself is unchanged
const writeMs = { live: [], replay: [] };
const writeErrors = new Map();
const timedSink = {
  ...s3Sink,
  apply(context) {
    const hooks = {
      ...context.hooks,
      emit: {
        tapPromise: (name, fn) => context.hooks.emit.tapPromise(name, async (document, json, delivery) => {
          const started = performance.now();
          try {
            await fn(document, json, delivery);
            (delivery.replay ? writeMs.replay : writeMs.live).push(performance.now() - started);
          } catch (error) {
            writeErrors.set(error.name, (writeErrors.get(error.name) ?? 0) + 1);
            throw error;
          }
        }),
      },
    };
    s3Sink.apply({ ...context, hooks });
  },
};

// ---- one host: the agent runner's tick (collect, emit with the same wait), on a clock shifted by the fleet's phase
const logger = createLogger({ level: "error" });
const clock = { now: () => Date.now() + phaseMs };
const ticks = { ran: 0, ok: 0, spooled: 0, invalid: 0 };
const schedulers = [];

async function runHost(host, startDelayMs, until) {
  await sleep(startDelayMs);
  const stateDir = join(stateRoot, host);
  await mkdir(stateDir, { recursive: true });
  const settings = { hostname: host, intervalMs, procfs: "/proc", sysfs: "/sys", dataDir: stateDir, stateDir };
  const runtime = new Runtime({ settings, logger });
  for (const definition of COLLECTORS) runtime.use({ definition });
  runtime.use({ definition: timedSink, options: { bucket, endpoint, forcePathStyle: true, prefix, listRefreshSeconds } });
  await runtime.start();
  const margin = Math.min(250, intervalMs / 4);
  const scheduler = new Scheduler({
    intervalMs,
    clock,
    run: async (slot) => {
      ticks.ran += 1;
      const document = await runtime.collect(slot);
      if (!document) return void (ticks.invalid += 1);
      const report = await runtime.emit(document, { waitMs: slot.getTime() + intervalMs - margin - clock.now() });
      if (report.sinks[0]?.ok) ticks.ok += 1;
      else ticks.spooled += 1;
    },
    onError: (error) => logger.error({ err: error, host }, "tick failed"),
  });
  schedulers.push(scheduler);
  scheduler.start();
  await sleep(Math.max(0, until - Date.now()));
  await scheduler.stop();
  const health = runtime.health().sinks[0];
  await runtime.stop();
  return health;
}

// Counters are also kept from the end of the warm-up (start-up probes, first list.json writes and ramp left out).
const skipped = () => schedulers.reduce((total, scheduler) => total + scheduler.stats.skipped, 0);
const snapshot = () => ({ cpu: process.cpuUsage(), ticks: { ...ticks, skipped: skipped() }, requests: Object.fromEntries(requests), sdkRetries, listRetries, listGiveUps, listUpdates: listUpdateMs.length, live: writeMs.live.length, replay: writeMs.replay.length, writeErrors: Object.fromEntries(writeErrors) });
let atWarmup;
setTimeout(() => (atWarmup = snapshot()), warmupSeconds * 1000);
const until = Date.now() + seconds * 1000;
const healths = await Promise.all(hosts.map((host, index) => runHost(host, (index / hosts.length) * rampMs, until)));
const sum = (field) => healths.reduce((total, health) => total + (health?.[field] ?? 0), 0);
const atEnd = snapshot();
// The longest time any live host went without a successful list.json write (from live to its first one, between
// two, or from the last one to the end): over 300 s, its entry would have expired from list.json.
const refreshGaps = [...listWrites.values()].map((writes) => Math.max(writes.worstGapMs, until - (writes.last ?? writes.live)));
const minus = (end, start = {}) => Object.fromEntries(Object.entries(end).map(([key, value]) => [key, value - (start[key] ?? 0)]));
process.send({
  done: {
    hosts: hosts.length,
    refreshGaps,
    cpuMs: (atEnd.cpu.user + atEnd.cpu.system - (atWarmup?.cpu.user ?? 0) - (atWarmup?.cpu.system ?? 0)) / 1000,
    ticks: minus(atEnd.ticks, atWarmup?.ticks),
    requests: minus(atEnd.requests, atWarmup?.requests),
    sdkRetries: atEnd.sdkRetries - (atWarmup?.sdkRetries ?? 0),
    listRetries: atEnd.listRetries - (atWarmup?.listRetries ?? 0),
    listGiveUps: atEnd.listGiveUps - (atWarmup?.listGiveUps ?? 0),
    listUpdateMs: listUpdateMs.slice(atWarmup?.listUpdates ?? 0),
    writeMs: { live: writeMs.live.slice(atWarmup?.live ?? 0), replay: writeMs.replay.slice(atWarmup?.replay ?? 0) },
    writeErrors: minus(atEnd.writeErrors, atWarmup?.writeErrors),
    startup: { ticks: atWarmup?.ticks, requests: atWarmup?.requests, writeErrors: atWarmup?.writeErrors },
    delivered: sum("delivered"),
    replayed: sum("replayed"),
    spoolDepthAtEnd: sum("depth"),
    dropped: sum("dropped"),
  },
});
await rm(stateRoot, { recursive: true, force: true });
process.disconnect();
