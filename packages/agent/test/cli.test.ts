import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { compile } from "@resourcemonitor/runtime";
import { runCli, startCli, tempDir, waitFor, sleep } from "./cli-helpers.js";

/** The document contract of DESIGN.md, written independently of the plugins' own schemas. */
const nullableNumber = { type: ["number", "null"] };
const CONTRACT = {
  type: "object",
  required: ["timestamp", "hostname", "cpu", "memory"],
  properties: {
    timestamp: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$" },
    hostname: { type: "string", minLength: 1 },
    cpu: {
      type: "object",
      required: ["usage_percent", "usage_per_core", "frequency", "count_logical", "count_physical", "temperatures"],
      properties: {
        usage_percent: { type: "number", minimum: 0, maximum: 100 },
        usage_per_core: { type: "array", items: { type: "number", minimum: 0, maximum: 100 } },
        frequency: { type: "object", required: ["current", "min", "max"], properties: { current: nullableNumber, min: nullableNumber, max: nullableNumber } },
        count_logical: { type: "integer", minimum: 1 },
        count_physical: { type: ["integer", "null"] },
        temperatures: {
          type: "array",
          items: { type: "object", required: ["sensor", "temperature", "high", "critical"], properties: { sensor: { type: "string" }, temperature: { type: "number" }, high: nullableNumber, critical: nullableNumber } },
        },
      },
    },
    memory: {
      type: "object",
      required: ["virtual", "swap"],
      properties: {
        virtual: { type: "object", required: ["total", "available", "used", "percent", "free"], properties: { total: { type: "integer" }, available: { type: "integer" }, used: { type: "integer" }, free: { type: "integer" }, percent: { type: "number", minimum: 0, maximum: 100 } } },
        swap: { type: "object", required: ["total", "used", "free", "percent"], properties: { total: { type: ["integer", "null"] }, used: { type: ["integer", "null"] }, free: { type: ["integer", "null"] }, percent: { type: ["number", "null"] } } },
      },
    },
  },
};
const validateContract = compile(CONTRACT);

/** Keeps one core busy while `work` runs, so a short CPU window sees real usage. */
async function whileBusy<T>(work: () => Promise<T>): Promise<T> {
  const worker = new Worker("const end = Date.now() + 5000; while (Date.now() < end) {}", { eval: true });
  try {
    return await work();
  } finally {
    await worker.terminate();
  }
}

test("`once` prints one document that meets the contract, with real CPU usage, and writes nothing", async () => {
  const cwd = await tempDir();
  const { code, stdout, stderr } = await whileBusy(() => runCli(["once", "--hostname", "contract-host"], { cwd }));
  assert.equal(code, 0, stderr);
  const document = JSON.parse(stdout) as { hostname: string; cpu: { usage_percent: number; frequency: { current: number } } };
  assert.ok(validateContract(document), JSON.stringify(validateContract.errors));
  assert.equal(document.hostname, "contract-host");
  assert.ok(document.cpu.usage_percent > 0, `usage ${document.cpu.usage_percent}`);
  assert.ok(document.cpu.frequency.current > 0, "frequency.current must come from /proc/cpuinfo on a VM without cpufreq");
  assert.deepEqual(await readdir(cwd), []);
});

test("`run` writes <host>.json, history and list.json to ./resourcemonitor-data within one interval, and SIGTERM exits 0", async () => {
  const cwd = await tempDir();
  const agent = startCli(["run", "--interval", "1", "--hostname", "run-host"], { cwd });
  const store = join(cwd, "resourcemonitor-data");
  // list.json is written last (history, then latest, then the list): once it names the host, the sample is complete.
  const list = await waitFor(async () => JSON.parse(await readFile(join(store, "list.json"), "utf8")) as Record<string, string>, 3000, "list.json");
  assert.deepEqual(Object.keys(list), ["run-host"]);
  const latest = JSON.parse(await readFile(join(store, "run-host.json"), "utf8")) as { timestamp: string };
  const history = await readdir(join(store, "history", "run-host"));
  assert.match(history[0] ?? "", /^\d{8}_\d{6}\.json$/);
  assert.equal(latest.timestamp.endsWith("Z"), true);
  assert.match(agent.stderr(), /resourcemonitor-data/, "the start-up log says where the store is");
  agent.child.kill("SIGTERM");
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr);
});

test("SIGTERM during a tick finishes that tick, writes its document, then exits 0", async () => {
  const cwd = await tempDir();
  const slow = new URL("./plugins/slow-collector.mjs", import.meta.url).pathname;
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify({ interval: 1, hostname: "flush-host", collectors: ["cpu", { name: slow, timeout: 2 }] }));
  const agent = startCli(["run"], { cwd });
  await waitFor(async () => (/slow tick started/.test(agent.stderr()) ? true : undefined), 3000, "a tick to start");
  await sleep(100);
  agent.child.kill("SIGTERM");
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr);
  const history = await readdir(join(cwd, "resourcemonitor-data", "history", "flush-host"));
  assert.equal(history.length, 1, "the tick in flight was written");
  const document = JSON.parse(await readFile(join(cwd, "resourcemonitor-data", "history", "flush-host", history[0] ?? ""), "utf8")) as { slow?: unknown };
  assert.ok(document.slow, "the slow collector's fragment made it");
});

test("a tick that ends less than half an interval into the next slot lets that slot run late: no sample lost", async () => {
  const cwd = await tempDir();
  const stalls = new URL("./plugins/stalls.mjs", import.meta.url).pathname;
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify({ interval: 1, hostname: "stall-host", collectors: ["memory", stalls] }));
  const agent = startCli(["run"], { cwd });
  const historyDir = join(cwd, "resourcemonitor-data", "history", "stall-host");
  await waitFor(async () => ((await readdir(historyDir).catch(() => [])).length >= 5 ? true : undefined), 15_000, "five samples");
  agent.child.kill("SIGTERM");
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr);
  const ticks = await Promise.all((await readdir(historyDir)).sort().map(async (name) => JSON.parse(await readFile(join(historyDir, name), "utf8")) as { timestamp: string; stalls: { tick: number } }));
  const seconds = ticks.map(({ timestamp }) => Date.parse(timestamp) / 1000);
  assert.deepEqual(seconds, seconds.map((_, index) => (seconds[0] ?? 0) + index), "one sample per second, none skipped");
  assert.deepEqual(ticks.map(({ stalls }) => stalls.tick), ticks.map((_, index) => index + 1));
  assert.match(stderr, /"ticks":\d+,"skipped":0,"msg":"stopped"/);
});

test("a bad configuration exits 78 naming the file, the path and what was expected", async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, ".resourcemonitorrc.json"), JSON.stringify({ interval: "soon" }));
  const { code, stderr } = await runCli(["run"], { cwd });
  assert.equal(code, 78);
  assert.equal(stderr, `resourcemonitor: configuration error: ${join(cwd, ".resourcemonitorrc.json")}: invalid configuration:\n  $.interval: must be integer\n`);
});

test("an unknown plugin exits 78 naming the entry and the package looked for", async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, "resourcemonitor.config.yaml"), "collectors:\n  - cpu\n  - nosuch\n");
  const { code, stderr } = await runCli(["once"], { cwd });
  assert.equal(code, 78);
  assert.match(stderr, /resourcemonitor\.config\.yaml \$\.collectors\[1\]: cannot find collector plugin "nosuch": no package @resourcemonitor\/plugin-nosuch/);
});

test("bad plugin options exit 78 naming the option", async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, "resourcemonitor.config.yaml"), "collectors:\n  - { name: thermal, chips: coretemp }\n");
  const { code, stderr } = await runCli(["once"], { cwd });
  assert.equal(code, 78);
  assert.match(stderr, /\$\.collectors\[0\]: .*invalid options:\n {2}\$\.chips: must be array/);
});

test("a hostname that would escape its key exits 78", async () => {
  for (const bad of ["../x", "a/b"]) {
    const { code, stderr } = await runCli(["once", "--hostname", bad], { cwd: await tempDir() });
    assert.equal(code, 78, bad);
    assert.match(stderr, new RegExp(`hostname "${bad.replace(/[./]/g, "\\$&")}" cannot be used`));
  }
});

test("`config` prints the effective configuration with secrets redacted", async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, "env"), "S3_BUCKET_NAME=my-monitoring-data\nHOSTNAME=server01\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIexample\n");
  const { code, stdout } = await runCli(["config", "--env-file", join(cwd, "env")], { cwd });
  assert.equal(code, 0);
  const config = JSON.parse(stdout) as { bucket: string; hostname: string; aws: Record<string, string>; sinks: { name: string }[] };
  assert.equal(config.bucket, "my-monitoring-data");
  assert.equal(config.hostname, "server01");
  assert.deepEqual(config.aws, { AWS_ACCESS_KEY_ID: "[redacted]", AWS_SECRET_ACCESS_KEY: "[redacted]" });
  assert.equal(config.sinks[0]?.name, "s3");
  assert.ok(!stdout.includes("wJalr") && !stdout.includes("AKIAEXAMPLE"));
});

test("`plugins` lists every loaded plugin with its version and the fields it contributes", async () => {
  const { code, stdout } = await runCli(["plugins"], { cwd: await tempDir() });
  assert.equal(code, 0);
  assert.match(stdout, /^collector cpu 0\.1\.0 \(cpu\)$/m);
  assert.match(stdout, /contributes: cpu\.usage_percent, cpu\.usage_per_core, cpu\.frequency, cpu\.count_logical, cpu\.count_physical/);
  assert.match(stdout, /contributes: memory\.virtual, memory\.swap/);
  assert.match(stdout, /contributes: cpu\.temperatures/);
  assert.match(stdout, /^collector nvidia 0\.1\.0 \(nvidia\)$/m);
  assert.match(stdout, /contributes: gpu/);
  assert.match(stdout, /^sink {6}file 0\.1\.0 \(file\)$/m);
  const json = JSON.parse((await runCli(["plugins", "--json"], { cwd: await tempDir() })).stdout) as { plugins: unknown[]; documentSchema: { allOf: unknown[] } };
  assert.equal(json.plugins.length, 5);
  assert.equal(json.documentSchema.allOf.length, 5);
});

test("--version, --help, and a bad command line", async () => {
  assert.match((await runCli(["--version"])).stdout, /^\d+\.\d+\.\d+\n$/);
  assert.match((await runCli(["--help"])).stdout, /Usage: resourcemonitor <command>/);
  const bad = await runCli(["frobnicate"]);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  assert.equal((await runCli(["run", "--intervall", "5"])).code, 64);
});
