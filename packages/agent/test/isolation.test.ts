import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, sleep, startCli, tempDir, waitFor } from "./cli-helpers.js";
import { gaps, historySeconds } from "./delivery-helpers.js";

const PLUGINS = fileURLToPath(new URL("./plugins/", import.meta.url));

interface Status {
  pid: number;
  running: boolean;
  ticks: number;
  uncaughtErrors: number;
  plugins: { name: string; runs: number; failures: number; lastError?: string }[];
  sinks: { sink: string; depth: number; state: string }[];
}

test("collectors that throw, hang, return garbage or leak timers cost only their own fragments: every second ships, failures are counted per plugin", { timeout: 60_000 }, async () => {
  const cwd = await tempDir();
  const bad = ["throws", "hangs", "garbage", "leaks"].map((name) => join(PLUGINS, `${name}.mjs`));
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify({ interval: 1, hostname: "isolated", collectTimeout: 0.3, collectors: ["cpu", ...bad, "memory"] }));
  const agent = startCli(["run"], { cwd });
  const history = join(cwd, "resourcemonitor-data", "history", "isolated");
  try {
    await waitFor(async () => ((await readdir(history)).length >= 6 ? true : undefined), 20_000, "six documents");
    const status = await waitFor(async () => {
      const { stdout } = await runCli(["status", "--json"], { cwd });
      const parsed = JSON.parse(stdout) as Status;
      return parsed.ticks >= 5 ? parsed : undefined;
    }, 15_000, "a status with five ticks");
    assert.equal(status.running, true);
    const byName = Object.fromEntries(status.plugins.map((plugin) => [plugin.name, plugin]));
    for (const name of ["throws", "hangs", "garbage"]) assert.ok((byName[name]?.failures ?? 0) >= 4, `${name}: ${JSON.stringify(byName[name])}`);
    assert.equal(byName.cpu?.failures, 0);
    assert.equal(byName.memory?.failures, 0);
    assert.equal(byName.leaks?.failures, 0, "leaks' fragment itself is fine");
    assert.ok(status.uncaughtErrors >= 8, `${status.uncaughtErrors} uncaught errors (a timer's throw and a rejection per tick)`);
    assert.match(byName.hangs?.lastError ?? "", /timed out after 300 ms/);
    assert.match(byName.throws?.lastError ?? "", /collector exploded/);
  } finally {
    agent.child.kill("SIGTERM");
  }
  const stopped = Date.now();
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr.slice(-2000));
  assert.ok(Date.now() - stopped < 5000, "leaked intervals do not keep the stopped agent alive");
  const names = await readdir(history);
  assert.deepEqual(gaps(historySeconds(names)), [], "the schedule never stalled");
  for (const name of names) {
    const document = JSON.parse(await readFile(join(history, name), "utf8")) as Record<string, unknown>;
    assert.equal(typeof (document.cpu as { usage_percent?: unknown }).usage_percent, "number", name);
    assert.ok(document.memory, name);
    assert.equal(document.garbage, undefined, name);
  }
  assert.match(stderr, /uncaught error outside any tick \(often a plugin's timer or callback\), the agent goes on: timer bomb/);
});

test("SIGHUP reloads the configuration; an invalid one is refused with a clear error and the old one keeps running", { timeout: 60_000 }, async () => {
  const cwd = await tempDir();
  const file = join(cwd, "resourcemonitor.config.json");
  await writeFile(file, JSON.stringify({ interval: 1, hostname: "before-reload", collectors: ["memory"] }));
  const agent = startCli(["run"], { cwd });
  const store = join(cwd, "resourcemonitor-data");
  try {
    await waitFor(async () => ((await readdir(join(store, "history", "before-reload"))).length >= 1 ? true : undefined), 10_000, "the first document");
    await writeFile(file, JSON.stringify({ interval: 1, hostname: "after-reload", collectors: ["memory"], sinks: [{ name: "no-such-sink-anywhere" }] }));
    agent.child.kill("SIGHUP");
    await waitFor(async () => (/configuration reload refused/.test(agent.stderr()) ? true : undefined), 10_000, "the refusal");
    assert.match(agent.stderr(), /configuration reload refused, the running configuration stays: .*\$\.sinks\[0\].*cannot find sink plugin \\?"no-such-sink-anywhere/);
    const before = (await readdir(join(store, "history", "before-reload"))).length;
    await sleep(2200);
    assert.ok((await readdir(join(store, "history", "before-reload"))).length >= before + 2, "the old configuration kept sampling");

    await writeFile(file, "{ not json");
    agent.child.kill("SIGHUP");
    await waitFor(async () => ((agent.stderr().match(/configuration reload refused/g) ?? []).length === 2 ? true : undefined), 10_000, "the second refusal");
    assert.match(agent.stderr(), new RegExp(`configuration reload refused, the running configuration stays: cannot read config file .*JSON Error in ${file}`));

    await writeFile(file, JSON.stringify({ interval: 1, hostname: "after-reload", collectors: ["memory"] }));
    agent.child.kill("SIGHUP");
    await waitFor(async () => ((await readdir(join(store, "history", "after-reload"))).length >= 2 ? true : undefined), 10_000, "documents of the new configuration");
    assert.match(agent.stderr(), /"msg":"configuration reloaded"/);
  } finally {
    agent.child.kill("SIGTERM");
  }
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr.slice(-2000));
});

test("`status` says clearly when there is no agent, and reports a stopped one as not running (exit 2)", { timeout: 30_000 }, async () => {
  const cwd = await tempDir();
  const none = await runCli(["status", "--state-dir", join(cwd, "nowhere")], { cwd });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /cannot read .*nowhere\/status\.json: no status file: no agent has run with this state directory/);

  const agent = startCli(["run", "--interval", "1", "--hostname", "status-host"], { cwd });
  await waitFor(async () => ((await readdir(join(cwd, "resourcemonitor-data", "history", "status-host"))).length >= 1 ? true : undefined), 10_000, "a document");
  agent.child.kill("SIGTERM");
  assert.equal((await agent.done).code, 0);
  const after = await runCli(["status"], { cwd });
  assert.equal(after.code, 2, after.stdout);
  assert.match(after.stdout, /^agent: +NOT running \(pid \d+\), version .*, host "status-host", every 1 s$/m);
  assert.match(after.stdout, /^spool file: up; 0 samples waiting \(0 KiB\) in .*\.spool\/file$/m);
  assert.match(after.stdout, /^last tick: +\d{4}-.*Z \(\d+ s ago\); [1-9]\d* ticks, 0 skipped slots, 0 uncaught errors$/m);
});

test("SIGTERM while the agent is still starting stops it cleanly once started: exit 0, state directory released", { timeout: 30_000 }, async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify({ interval: 1, hostname: "early-stop", collectors: ["memory", join(PLUGINS, "slow-start.mjs")] }));
  const agent = startCli(["run"], { cwd });
  try {
    await waitFor(async () => (/slow-start: starting/.test(agent.stderr()) ? true : undefined), 10_000, "the plugin's start");
  } finally {
    agent.child.kill("SIGTERM");
  }
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr.slice(-2000));
  assert.match(stderr, /received SIGTERM: stopping \(once start-up has finished\)/);
  await assert.rejects(readFile(join(cwd, "resourcemonitor-data", ".spool", "agent.pid")), { code: "ENOENT" }, "the state directory's lock is released");
});

test("a process warning from a plugin's dependency is one JSON log line, not Node's text between the log lines", { timeout: 30_000 }, async () => {
  const cwd = await tempDir();
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify({ interval: 1, hostname: "warned", collectors: ["memory", join(PLUGINS, "warns.mjs")] }));
  const agent = startCli(["run"], { cwd });
  try {
    await waitFor(async () => (/process warning/.test(agent.stderr()) ? true : undefined), 10_000, "the warning's log line");
  } finally {
    agent.child.kill("SIGTERM");
  }
  const { code, stderr } = await agent.done;
  assert.equal(code, 0, stderr.slice(-2000));
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
  const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string; warning?: string }).filter((entry) => entry.msg.startsWith("process warning"));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.level, 40);
  assert.equal(warnings[0]?.msg, "process warning: SomeSupportWarning: this library will need a newer Node. More at https://example.invalid");
  assert.equal(warnings[0]?.warning, "Warning");
});
