// Side by side with the peers: each agent samples CPU, memory, frequency and temperatures every 1 s, all in
// the same run on the same machine; prints whole-process CPU per tick, RSS and bytes written per sample.
// Usage: node bench/peers/run.mjs [--seconds 60] [--warmup 30] [--json FILE] [--no-install]
// Installs collectd-core and prometheus-node-exporter from Debian's packages when they are missing (root).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { createServer } from "node:net";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AGENT_BIN, agentNodeFlags } from "../agent-flags.mjs";
import { collectdConfig } from "./collectd.mjs";
import { cpuFromSchedstat, cpuFromStat, median, sampleRss, sleep, startProcess, stopProcesses, writtenBytes } from "../process-stats.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "30" },
    json: { type: "string" },
    "no-install": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);

function ensurePackages() {
  const wanted = [
    ["collectd", "collectd-core"],
    ["prometheus-node-exporter", "prometheus-node-exporter"],
  ].filter(([command]) => !commandExists(command));
  if (wanted.length === 0 || values["no-install"]) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${wanted.map(([, pkg]) => pkg).join(", ")}: install them with apt-get (as root), or run this as root`);
  const names = wanted.map(([, pkg]) => pkg);
  process.stderr.write(`installing ${names.join(" ")} from Debian's packages…\n`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...names], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  // Debian starts the exporter as a service where systemd runs; this run starts its own.
  try {
    execFileSync("systemctl", ["stop", "prometheus-node-exporter"], { stdio: "ignore" });
  } catch {
    // no systemd here
  }
}

function commandExists(command) {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((dir) => existsSync(join(dir, command)));
}

function packageVersion(pkg) {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" });
  } catch {
    return "unknown";
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const start = (name, command, args, env = {}) => startProcess(name, command, args, { cwd: root, env });

async function scrapeLoop(url, stop) {
  let scrapes = 0;
  let bytes = 0;
  while (!stop.done) {
    const startedAt = Date.now();
    bytes += await new Promise((resolve) => {
      get(url, (response) => {
        let length = 0;
        response.on("data", (chunk) => (length += chunk.length));
        response.on("end", () => resolve(length));
      }).on("error", () => resolve(0));
    });
    scrapes += 1;
    await sleep(Math.max(0, 1000 - (Date.now() - startedAt) - (Date.now() % 1000) / 10));
  }
  return { scrapes, bytes };
}

ensurePackages();
const { startS3Server } = await import("@resourcemonitor/s3-test-server");
const dir = await mkdtemp(join(tmpdir(), "rm-peers-"));
const s3 = await startS3Server({ buckets: ["peers-bench"], recordRequests: false });
const exporterPort = await freePort();
await writeFile(join(dir, "collectd.conf"), collectdConfig(dir));
const noEnvFile = { RESOURCEMONITOR_ENV_FILE: join(dir, "no-env-file") };
const agentFlags = agentNodeFlags();
const agents = [
  start("resourcemonitor, file sink", AGENT_BIN, ["run", "--interval", "1", "--hostname", "bench-file", "--data-dir", join(dir, "store"), "--log-level", "warn"], noEnvFile),
  start("resourcemonitor, S3 sink (local server)", AGENT_BIN, ["run", "--interval", "1", "--hostname", "bench-s3", "--data-dir", join(dir, "store-s3"), "--log-level", "warn"], {
    ...noEnvFile,
    S3_BUCKET_NAME: "peers-bench",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
  }),
  start("collectd (cpu, memory, swap, cpufreq, thermal, csv)", "collectd", ["-f", "-C", join(dir, "collectd.conf")]),
  start("node_exporter (cpu, cpufreq, meminfo, hwmon, thermal_zone), scraped 1/s", "prometheus-node-exporter", [
    `--web.listen-address=127.0.0.1:${exporterPort}`,
    "--collector.disable-defaults",
    "--collector.cpu",
    "--collector.cpufreq",
    "--collector.meminfo",
    "--collector.hwmon",
    "--collector.thermal_zone",
  ]),
  start("systeminformation loop (currentLoad, mem, cpuCurrentSpeed, cpuTemperature)", process.execPath, ["bench/si-loop.mjs", "1000"]),
  // No agent: the file sink's system calls alone, with the agent's node flags (see bench/floor.mjs).
  start("reference: the file sink's system calls alone (bench/floor.mjs)", process.execPath, [...agentFlags, "bench/floor.mjs", join(dir, "floor")]),
];
const exporterIndex = 3;

let results;
try {
  const stop = { done: false };
  const scraping = scrapeLoop(`http://127.0.0.1:${exporterPort}/metrics`, stop);
  process.stderr.write(`warming up ${warmup} s, then measuring ${seconds} s…\n`);
  await sleep(warmup * 1000);
  for (const agent of agents) {
    if (agent.child.exitCode !== null) throw new Error(`${agent.name} exited early: ${agent.stderr()}`);
  }
  const measure = () => agents.map(({ child }) => ({ stat: cpuFromStat(child.pid), sched: cpuFromSchedstat(child.pid), written: writtenBytes(child.pid) }));
  const before = measure();
  const historyBefore = (await readdir(join(dir, "store", "history", "bench-file")).catch(() => [])).length;
  const s3Before = s3.counts();
  const { rss, elapsed } = await sampleRss(agents, seconds);
  const after = measure();
  const historyAfter = (await readdir(join(dir, "store", "history", "bench-file")).catch(() => [])).length;
  const s3After = s3.counts();
  stop.done = true;
  await scraping;
  results = agents.map(({ name }, index) => {
    const ticks = elapsed; // every agent runs at 1 s
    return {
      name,
      cpuMsPerTick: (after[index].sched - before[index].sched) / ticks,
      cpuMsPerTickStat: (after[index].stat - before[index].stat) / ticks,
      rssMedianMB: median(rss[index]) / 1e6,
      rssMaxMB: Math.max(...rss[index]) / 1e6,
      bytesWrittenPerTick: (after[index].written - before[index].written) / ticks,
      note: index === exporterIndex ? "bytes are the /metrics responses it wrote" : undefined,
    };
  });
  results.samplesCheck = {
    fileSinkHistoryFiles: historyAfter - historyBefore,
    s3Puts: (s3After.byMethod.PUT ?? 0) - (s3Before.byMethod.PUT ?? 0),
    s3Gets: (s3After.byMethod.GET ?? 0) - (s3Before.byMethod.GET ?? 0),
    seconds: elapsed,
  };
} finally {
  await stopProcesses(agents);
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
const versions = `collectd ${packageVersion("collectd-core")}, prometheus-node-exporter ${packageVersion("prometheus-node-exporter")}`;
console.log(`${new Date().toISOString().slice(0, 10)} · ${machine} · ${versions} · ${seconds} s after ${warmup} s warm-up`);
console.log("| agent | CPU ms/tick (schedstat) | CPU ms/tick (stat) | RSS median MB | RSS max MB | bytes written/tick |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of results) {
  console.log(`| ${row.name} | ${row.cpuMsPerTick.toFixed(2)} | ${row.cpuMsPerTickStat.toFixed(2)} | ${row.rssMedianMB.toFixed(1)} | ${row.rssMaxMB.toFixed(1)} | ${Math.round(row.bytesWrittenPerTick)}${row.note ? ` (${row.note})` : ""} |`);
}
const check = results.samplesCheck;
console.log(`check: file sink wrote ${check.fileSinkHistoryFiles} history files and the S3 sink made ${check.s3Puts} PUT + ${check.s3Gets} GET in ${check.seconds.toFixed(0)} s`);
if (values.json) await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), machine, versions, seconds, warmup, results, check }, null, 2)}\n`);
