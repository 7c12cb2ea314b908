// The durable spool: append cost per sample (CPU, and wall time including fdatasync), disk bytes per spooled
// sample, and replay throughput to the local S3 server through the real s3 sink.
// Usage: node bench/spool.mjs [--samples 2000] [--replay 1000] [--dir DIR]   (run `npm run build` first)
import { Buffer } from "node:buffer";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Runtime, Spool, DEFAULT_SPOOL_LIMITS } from "../packages/runtime/dist/src/index.js";
import s3Sink from "../packages/sink-s3/dist/src/index.js";
import { startS3Server } from "../packages/s3-test-server/dist/src/index.js";

const { values } = parseArgs({ options: { samples: { type: "string", default: "2000" }, replay: { type: "string", default: "1000" }, dir: { type: "string" } } });
const samples = Number(values.samples);
const replayCount = Number(values.replay);
const logger = pino({ level: "silent" });

/** A document shaped like the default preset's on a 16-core host without GPUs (~1.3 KB of JSON). */
function documentAt(second) {
  return {
    timestamp: `${new Date(second * 1000).toISOString().slice(0, 19)}Z`,
    hostname: "bench-host",
    cpu: {
      usage_percent: 12.3,
      usage_per_core: Array.from({ length: 16 }, (_, core) => ((core * 7 + second) % 100) + 0.5),
      frequency: { current: 2900.123, min: 800, max: 4700 },
      count_logical: 16,
      count_physical: 8,
      temperatures: [{ sensor: "Package id 0", temperature: 54, high: 80, critical: 100 }, { sensor: "Core 0", temperature: 52, high: 80, critical: 100 }],
    },
    memory: { virtual: { total: 67_108_864_000, available: 40_000_000_000, used: 27_108_864_000, percent: 40.4, free: 30_000_000_000 }, swap: { total: 8_589_934_592, used: 0, free: 8_589_934_592, percent: 0 } },
    gpu: [],
  };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const base = values.dir ?? (await mkdtemp(join(tmpdir(), "rm-bench-spool-")));
const start = Math.floor(Date.now() / 1000) - samples - replayCount;

// 1. Appends: what a tick pays per failing sink.
const dir = join(base, "append");
const spool = await Spool.open(dir, DEFAULT_SPOOL_LIMITS, logger);
const jsonBytes = [];
const walls = [];
const cpuBefore = process.cpuUsage();
for (let index = 0; index < samples; index += 1) {
  const json = JSON.stringify(documentAt(start + index));
  jsonBytes.push(Buffer.byteLength(json));
  const began = process.hrtime.bigint();
  await spool.append({ time: Date.now(), json });
  walls.push(Number(process.hrtime.bigint() - began) / 1e6);
}
const cpu = process.cpuUsage(cpuBefore);
await spool.close();
walls.sort((a, b) => a - b);
let fileBytes = 0;
let diskBytes = 0;
for (const name of await readdir(dir)) {
  const info = await stat(join(dir, name));
  fileBytes += info.size;
  diskBytes += info.blocks * 512;
}
const meanJson = jsonBytes.reduce((sum, bytes) => sum + bytes, 0) / samples;

// 2. Replay: a spool left by an earlier run, delivered to the local S3 server through the s3 sink.
const server = await startS3Server({ buckets: ["bench"], recordRequests: false });
process.env.AWS_ACCESS_KEY_ID = "bench";
process.env.AWS_SECRET_ACCESS_KEY = "bench";
const stateDir = join(base, "state");
const filling = await Spool.open(join(stateDir, "s3"), DEFAULT_SPOOL_LIMITS, logger);
for (let index = 0; index < replayCount; index += 1) await filling.append({ time: Date.now(), json: JSON.stringify(documentAt(start + samples + index)) });
await filling.close();
const runtime = new Runtime({ settings: { hostname: "bench-host", intervalMs: 1000, procfs: "/proc", sysfs: "/sys", dataDir: base, stateDir }, logger });
runtime.use({ definition: s3Sink, options: { bucket: "bench", endpoint: server.endpoint, forcePathStyle: true, region: "us-east-1" } });
const replayStarted = performance.now();
const replayCpu = process.cpuUsage();
await runtime.start();
while (runtime.health().sinks[0].depth > 0) await new Promise((resolve) => setTimeout(resolve, 5));
const replaySeconds = (performance.now() - replayStarted) / 1000;
const replayCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(replayCpu));
const requests = server.counts();
await runtime.stop();
await server.close();
if (!values.dir) await rm(base, { recursive: true, force: true });

const results = {
  appends: samples,
  meanDocumentBytes: Math.round(meanJson),
  appendCpuUsPerSample: Math.round(((cpu.user + cpu.system) / samples) * 10) / 10,
  appendWallMs: { p50: quantile(walls, 0.5).toFixed(3), p99: quantile(walls, 0.99).toFixed(3), max: walls.at(-1).toFixed(3) },
  fileBytesPerSample: Math.round((fileBytes / samples) * 10) / 10,
  diskBytesPerSample: Math.round((diskBytes / samples) * 10) / 10,
  replayed: replayCount,
  replaySamplesPerSecond: Math.round(replayCount / replaySeconds),
  replayCpuMsPerSample: Math.round((replayCpuMs / replayCount) * 100) / 100,
  replayRequestsPerSample: Math.round((requests.total / replayCount) * 100) / 100,
};
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
