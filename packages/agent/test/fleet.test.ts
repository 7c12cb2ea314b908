import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sleep, startCli, tempDir, waitFor } from "./cli-helpers.js";

const SECONDS = 30;

test(`two agents on one data directory for ${SECONDS} s: both are in list.json throughout`, { timeout: (SECONDS + 30) * 1000 }, async () => {
  const dataDir = await tempDir("rm-fleet-");
  // One store, but each agent its own state directory (the default, <dataDir>/.spool, is claimed by one agent).
  const agents = ["alpha", "beta"].map((host) => startCli(["run", "--interval", "1", "--hostname", host, "--data-dir", dataDir, "--state-dir", join(dataDir, `.state-${host}`)]));
  const listPath = join(dataDir, "list.json");
  const read = async () => JSON.parse(await readFile(listPath, "utf8")) as Record<string, string>;
  await waitFor(async () => ((l) => (l.alpha && l.beta ? true : undefined))(await read()), 5000, "both hosts in list.json");
  let reads = 0;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const list = await read();
    assert.deepEqual(Object.keys(list).sort(), ["alpha", "beta"], `read ${reads}: ${JSON.stringify(list)}`);
    reads += 1;
    await sleep(20);
  }
  for (const agent of agents) agent.child.kill("SIGTERM");
  for (const agent of agents) assert.equal((await agent.done).code, 0, agent.stderr());
  assert.ok(reads > SECONDS * 10, `only ${reads} reads`);
});
