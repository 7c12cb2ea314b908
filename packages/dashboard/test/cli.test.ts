import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createFileStore } from "@resourcemonitor/sink-file";
import type { FleetResponse } from "../src/index.js";
import { buildPage } from "./browser.js";
import { seedFleet, tempDir } from "./seed.js";

const AGENT_BIN = fileURLToPath(new URL("../../agent/bin/resourcemonitor.js", import.meta.url));
/** The bin's shebang flags (the agent's), under which people run every command. */
const BIN_FLAGS = ["--no-opt", "--max-semi-space-size=2", "--optimize-for-size"];

function cli(args: string[], nodeFlags: string[] = [], detached = false) {
  const { S3_BUCKET_NAME: _bucket, UPLOAD_FREQUENCY_SECONDS: _interval, ...env } = process.env;
  const child = spawn(process.execPath, [...nodeFlags, AGENT_BIN, ...args], { env: { ...env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/env" }, stdio: ["ignore", "pipe", "pipe"], detached });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, exited, stderr: () => stderr };
}

/** The URL the dashboard logs once it listens. */
async function listening(run: ReturnType<typeof cli>): Promise<string> {
  let url: string | undefined;
  for (let waited = 0; !url && waited < 20_000 && run.child.exitCode === null; waited += 50) {
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(run.stderr())?.[1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(url, run.stderr());
  return url;
}

/** The command lines of a process's children (Linux /proc). */
async function childrenOf(pid: number): Promise<string[][]> {
  const pids = (await readFile(`/proc/${pid}/task/${pid}/children`, "utf8")).trim().split(/\s+/).filter(Boolean);
  return Promise.all(pids.map(async (child) => (await readFile(`/proc/${child}/cmdline`, "utf8")).split("\0").filter(Boolean)));
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, "g"))?.length ?? 0;

test("resourcemonitor dashboard (with the bin's flags) serves the page and the API for --data-dir on 127.0.0.1 from a node without them, and stops on SIGTERM", { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir();
  await Promise.all([seedFleet(createFileStore(dataDir)), buildPage()]);
  const run = cli(["dashboard", "--data-dir", dataDir, "--port", "0", "--interval", "5"], BIN_FLAGS);
  t.after(() => void run.child.kill("SIGKILL")); // a failed check leaves no server behind (its child stops with it)
  const url = await listening(run);
  const [server, ...others] = await childrenOf(run.child.pid as number);
  assert.equal(others.length, 0);
  assert.deepEqual(server?.slice(1), [AGENT_BIN, "dashboard", "--data-dir", dataDir, "--port", "0", "--interval", "5"], "the same command, without the agent's V8 flags");
  const fleet = (await (await fetch(new URL("/api/hosts", url))).json()) as FleetResponse;
  assert.deepEqual(fleet.hosts.map((host) => host.host), ["alpha", "gpu2", "nosensor", "old"]);
  assert.equal(fleet.intervalSeconds, 5, "the agents' interval from the same configuration");
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script type="module" src="\/assets\/app-\w+\.js">/);
  assert.match(run.stderr(), /store .* readable: 4 hosts, 1 stale, list\.json ok/);
  run.child.kill("SIGTERM");
  assert.equal(await run.exited, 0, run.stderr());
  await assert.rejects(fetch(url), "the server is gone");
  assert.equal(count(run.stderr(), /received SIGTERM; dashboard stopped/), 1, run.stderr());
  assert.equal(count(run.stderr(), /dashboard on http/), 1, "logged once");
});

test("resourcemonitor dashboard stops once on Ctrl-C (SIGINT to its process group), on SIGTERM to both its processes, and when the process that started it is killed", { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir();
  await seedFleet(createFileStore(dataDir));
  const interrupted = cli(["dashboard", "--data-dir", dataDir, "--port", "0"], BIN_FLAGS, true);
  t.after(() => {
    if (interrupted.child.exitCode === null) process.kill(-(interrupted.child.pid as number), "SIGKILL");
  });
  const url = await listening(interrupted);
  process.kill(-(interrupted.child.pid as number), "SIGINT");
  assert.equal(await interrupted.exited, 0, interrupted.stderr());
  await assert.rejects(fetch(url), "the server is gone");
  assert.equal(count(interrupted.stderr(), /received SIGINT; dashboard stopped/), 1, interrupted.stderr());

  // A service manager stopping the whole group: SIGTERM to the parent and to the server at once.
  const stopped = cli(["dashboard", "--data-dir", dataDir, "--port", "0"], BIN_FLAGS);
  t.after(() => void stopped.child.kill("SIGKILL"));
  const stoppedUrl = await listening(stopped);
  const serverPid = Number((await readFile(`/proc/${stopped.child.pid}/task/${stopped.child.pid}/children`, "utf8")).trim());
  process.kill(serverPid, "SIGTERM");
  stopped.child.kill("SIGTERM");
  assert.equal(await stopped.exited, 0, stopped.stderr());
  await assert.rejects(fetch(stoppedUrl), "the server is gone");
  assert.equal(count(stopped.stderr(), /received SIGTERM; dashboard stopped/), 1, stopped.stderr());

  const killed = cli(["dashboard", "--data-dir", dataDir, "--port", "0"], BIN_FLAGS);
  const killedUrl = await listening(killed);
  killed.child.kill("SIGKILL");
  await killed.exited;
  let gone = false;
  for (let waited = 0; !gone && waited < 20_000; waited += 100) {
    gone = await fetch(killedUrl).then(() => false, () => true);
    if (!gone) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(gone, "the relaunched server stops with the process that started it");
});

test("resourcemonitor dashboard (with the bin's flags) on a taken port exits 1 and says so once", { timeout: 60_000 }, async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  try {
    const port = (taken.address() as { port: number }).port;
    const run = cli(["dashboard", "--data-dir", await tempDir(), "--port", String(port)], BIN_FLAGS);
    assert.equal(await run.exited, 1, run.stderr());
    assert.equal(count(run.stderr(), /cannot listen on 127\.0\.0\.1:\d+: the port is taken: pick another with --port/), 1, run.stderr());
  } finally {
    taken.close();
  }
});

test("resourcemonitor dashboard refuses a bad port with exit 64, and a bad bucket name with exit 78", async () => {
  const badPort = cli(["dashboard", "--port", "http"], BIN_FLAGS);
  assert.equal(await badPort.exited, 64);
  assert.match(badPort.stderr(), /--port "http" is no port number/);
  const badBucket = cli(["dashboard", "--bucket", "no/such bucket"], BIN_FLAGS);
  assert.equal(await badBucket.exited, 78);
  assert.match(badBucket.stderr(), /configuration error: .*is no bucket name/);
});
