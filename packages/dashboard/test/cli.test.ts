import { spawn } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createFileStore } from "@resourcemonitor/sink-file";
import type { FleetResponse } from "../src/index.js";
import { buildPage } from "./browser.js";
import { seedFleet, tempDir } from "./seed.js";

const AGENT_BIN = fileURLToPath(new URL("../../agent/bin/resourcemonitor.js", import.meta.url));

function cli(args: string[], nodeFlags: string[] = []) {
  const { S3_BUCKET_NAME: _bucket, UPLOAD_FREQUENCY_SECONDS: _interval, ...env } = process.env;
  const child = spawn(process.execPath, [...nodeFlags, AGENT_BIN, ...args], { env: { ...env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/env" }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, exited, stderr: () => stderr };
}

test("resourcemonitor dashboard (with the bin's --no-opt) serves the page and the API for --data-dir on 127.0.0.1, and stops on SIGTERM", { timeout: 60_000 }, async () => {
  const dataDir = await tempDir();
  await Promise.all([seedFleet(createFileStore(dataDir)), buildPage()]);
  const run = cli(["dashboard", "--data-dir", dataDir, "--port", "0", "--interval", "5"], ["--no-opt"]);
  let url: string | undefined;
  for (let waited = 0; !url && waited < 20_000; waited += 50) {
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(run.stderr())?.[1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(url, run.stderr());
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
});

test("resourcemonitor dashboard refuses a bad port with exit 64, and a bad bucket name with exit 78", async () => {
  const badPort = cli(["dashboard", "--port", "http"]);
  assert.equal(await badPort.exited, 64);
  assert.match(badPort.stderr(), /--port "http" is no port number/);
  const badBucket = cli(["dashboard", "--bucket", "no/such bucket"]);
  assert.equal(await badBucket.exited, 78);
  assert.match(badBucket.stderr(), /configuration error: .*is no bucket name/);
});
