// Requests, bytes and wall time of one tick's upload by the s3 sink, against the in-process S3 test server
// (fauxqs on 127.0.0.1), beside what the original Python agent sends per upload (3 PUT + 1 GET).
// Usage: node bench/s3-tick.mjs [--ticks 200] [--latency 0,20] [--json FILE]   (after `npm run build`)
// --latency: one-way added server latency in ms for each run (0 = loopback; 20 = a bucket in a nearby region).
// The sink runs in a child process, so its CPU per tick (process.cpuUsage) is the client's alone, not the server's.
import { fork } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startS3Server } from "../packages/s3-test-server/dist/src/index.js";
import s3Sink from "../packages/sink-s3/dist/src/index.js";
import { createHooks, createLogger } from "../packages/runtime/dist/src/index.js";

const CHILD = process.argv[2] === "--sink-child";
const { values } = CHILD ? { values: { ticks: "0", latency: "0" } } : parseArgs({ options: { ticks: { type: "string", default: "200" }, latency: { type: "string", default: "0,20" }, json: { type: "string" } } });
const TICKS = Number(values.ticks);
const LATENCIES = values.latency.split(",").map(Number);
const BUCKET = "bench";
const FLEET = 20; // list.json holds 20 hosts, as in a small fleet

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "bench-secret", AWS_EC2_METADATA_DISABLED: "true" });

/** A document the size of a real one: 8 cores, 2 sensors, 1 GPU (the original README's example). */
function documentAt(second) {
  return {
    timestamp: new Date(Date.UTC(2025, 7, 5, 14, 0, 0) + second * 1000).toISOString().slice(0, 19) + "Z",
    hostname: "server01",
    cpu: {
      usage_percent: 25.4,
      usage_per_core: [20.1, 30.7, 22.3, 28.9, 19.5, 33.2, 24.8, 26.1],
      frequency: { current: 2400.0, min: 800.0, max: 3200.0 },
      count_logical: 8,
      count_physical: 4,
      temperatures: [
        { sensor: "coretemp_Package id 0", temperature: 47.0, high: 100.0, critical: 105.0 },
        { sensor: "coretemp_Core 0", temperature: 45.0, high: 100.0, critical: 105.0 },
      ],
    },
    memory: {
      virtual: { total: 16777216000, available: 8388608000, used: 8388608000, percent: 50.0, free: 8388608000 },
      swap: { total: 2147483648, used: 0, free: 2147483648, percent: 0.0 },
    },
    gpu: [{ index: 0, name: "NVIDIA GeForce RTX 4080", memory: { total: 17179869184, used: 2147483648, free: 15032385536, percent: 12.5 }, utilization: { gpu: 15, memory: 12 }, temperature: 42, power_usage_watts: 45.2, fan_speed_percent: 30 }],
  };
}

function startSink(server, options) {
  const hooks = createHooks();
  s3Sink.apply({
    hooks,
    options: { bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true, ...options },
    settings: { hostname: "server01", intervalMs: 1000, procfs: "/proc", sysfs: "/sys", dataDir: "/nonexistent", stateDir: "/nonexistent" },
    logger: createLogger({ level: "silent" }),
  });
  const delivery = { replay: false, latest: true, signal: new AbortController().signal };
  return { start: () => hooks.start.promise(), write: (document) => hooks.emit.promise(document, JSON.stringify(document), delivery), stop: () => hooks.stop.promise() };
}

async function seedList(server, prefix) {
  const stamp = new Date().toISOString().slice(0, 19) + "Z";
  const list = Object.fromEntries(Array.from({ length: FLEET - 1 }, (_, index) => [`peer-${String(index).padStart(2, "0")}`, stamp]));
  await fetch(`${server.endpoint}/${BUCKET}/${prefix}list.json`, { method: "PUT", body: JSON.stringify(list, null, 2), headers: { "content-type": "application/json" } });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Child mode: starts the sink, writes a first tick, then on "go" writes `ticks` more and reports wall and CPU times. */
function sinkChild() {
  process.once("message", async ({ endpoint, prefix, options, ticks }) => {
    const sink = startSink({ endpoint }, { prefix, ...options });
    await sink.start();
    await sink.write(documentAt(-1)); // first tick: connection set-up, not steady state
    process.send({ ready: true });
    process.once("message", async () => {
      const walls = [];
      const cpuBefore = process.cpuUsage();
      for (let tick = 0; tick < ticks; tick += 1) {
        const started = performance.now();
        await sink.write(documentAt(tick));
        walls.push(performance.now() - started);
      }
      const cpu = process.cpuUsage(cpuBefore);
      await sink.stop();
      process.send({ walls, cpuMs: (cpu.user + cpu.system) / 1000 });
      process.disconnect();
    });
  });
}

/** Runs TICKS uploads in a child process and returns the per-tick request counts (by kind), bytes sent, wall and CPU times. */
async function measure({ name, conditional, options, latencyMs }) {
  const server = await startS3Server({ buckets: [BUCKET], conditional, recordRequests: false });
  const prefix = `${name}/`;
  try {
    await seedList(server, prefix);
    const child = fork(fileURLToPath(import.meta.url), ["--sink-child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const next = () => new Promise((resolve) => child.once("message", resolve));
    child.send({ endpoint: server.endpoint, prefix, options, ticks: TICKS });
    await next();
    if (latencyMs > 0) server.setLatency([latencyMs, latencyMs]);
    server.resetCounts();
    const result = next();
    child.send({ go: true });
    const { walls, cpuMs } = await result;
    const { byMethod, bytesIn } = server.counts();
    walls.sort((a, b) => a - b);
    return {
      name,
      latencyMs,
      putPerTick: (byMethod.PUT ?? 0) / TICKS,
      getPerTick: (byMethod.GET ?? 0) / TICKS,
      bytesPerTick: bytesIn / TICKS,
      documentBytes: JSON.stringify(documentAt(0)).length,
      wallMedianMs: percentile(walls, 0.5),
      wallP95Ms: percentile(walls, 0.95),
      cpuPerTickMs: cpuMs / TICKS,
    };
  } finally {
    await server.close();
  }
}

// listRefreshSeconds 30 on a store that honours conditions: every tick inside the bench is within 30 s of the
// first, so the figures are those of a tick that does not refresh (1 in 30 ticks at a 1 s interval does).
const SCENARIOS = [
  { name: "conditional", conditional: true, options: {} },
  { name: "conditional-refresh-30s", conditional: true, options: { listRefreshSeconds: 30 } },
  { name: "fallback-verify", conditional: false, options: {} },
  { name: "conditional-sdk-only", conditional: true, options: { leanRequests: false } },
];

if (CHILD) {
  sinkChild();
} else {
  await main();
}

async function main() {
  const results = [];
  for (const latencyMs of LATENCIES) for (const scenario of SCENARIOS) results.push(await measure({ ...scenario, latencyMs }));

  const fixed = (value, digits = 1) => value.toFixed(digits);
  console.log(`| scenario | added latency | PUT/tick | GET/tick | bytes sent/tick | document bytes | tick wall median | tick wall p95 | sink CPU/tick |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  console.log(`| original Python agent (boto3) | | 3 | 1 | 2 × document + list.json | | | | |`);
  for (const r of results) {
    console.log(`| ${r.name} | ${r.latencyMs} ms | ${fixed(r.putPerTick, 2)} | ${fixed(r.getPerTick, 2)} | ${Math.round(r.bytesPerTick)} | ${r.documentBytes} | ${fixed(r.wallMedianMs)} ms | ${fixed(r.wallP95Ms)} ms | ${fixed(r.cpuPerTickMs, 2)} ms |`);
  }
  if (values.json) await writeFile(values.json, JSON.stringify({ ticks: TICKS, fleet: FLEET, results }, null, 2));
}
