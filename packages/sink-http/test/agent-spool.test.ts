import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const AGENT = fileURLToPath(new URL("../../agent/bin/resourcemonitor.js", import.meta.url));

test("a real agent whose endpoint fails for its first seconds spools and replays: every tick arrives, in order, none lost", async () => {
  const stored: { timestamp: string }[] = [];
  let failed = 0;
  const upAt = Date.now() + 3500;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      if (Date.now() < upAt) return void (failed += 1, response.writeHead(503).end("warming up"));
      stored.push(JSON.parse(body) as { timestamp: string });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cwd = await mkdtemp(join(tmpdir(), "rm-sink-http-agent-"));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
    await writeFile(
      join(cwd, "resourcemonitor.config.yaml"),
      `interval: 1\nhostname: http-host\ncollectors: [memory]\nsinks:\n  - { name: http, url: "${url}", retries: 1, retryDelay: 0.05 }\ndelivery: { retryInitial: 0.2, retryMax: 0.5 }\n`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env" };
    delete env.S3_BUCKET_NAME;
    const agent = spawn(process.execPath, [AGENT, "run"], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    agent.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(agent, "exit") as Promise<[number | null]>;
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 6500)), exited]);
    agent.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.ok(failed >= 3, `the endpoint refused ${failed} requests while down`);
    const seconds = stored.map(({ timestamp }) => Date.parse(timestamp) / 1000);
    assert.ok(seconds.length >= 5, `${seconds.length} documents arrived: ${JSON.stringify(stored.map((d) => d.timestamp))}\n${stderr}`);
    assert.ok(seconds[0] !== undefined && seconds[0] * 1000 < upAt - 1000, "documents sampled while the endpoint was down arrived later");
    seconds.forEach((second, index) => index > 0 && assert.equal(second - (seconds[index - 1] ?? 0), 1, `no gap and no duplicate at ${index}: ${JSON.stringify(stored.map((d) => d.timestamp))}`));
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(cwd, { recursive: true, force: true });
  }
});
