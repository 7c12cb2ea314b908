// Crash, frozen endpoint at shutdown, and an unwritable state directory, against the local S3 server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import { sleep, waitFor } from "./cli-helpers.js";
import { agentConfig, gaps, getObject, historySeconds, listKeys, readStatusFile, startAgent, startServer, waitDrained } from "./delivery-helpers.js";

const nowSecond = () => Math.floor(Date.now() / 1000);

async function historyOf(server: Awaited<ReturnType<typeof startServer>>, host: string): Promise<number[]> {
  const seconds = historySeconds(await listKeys(server, `history/${host}/`));
  assert.equal(new Set(seconds).size, seconds.length, "no second stored twice");
  return seconds;
}

async function latestIsNewest(server: Awaited<ReturnType<typeof startServer>>, host: string, seconds: number[]): Promise<void> {
  const latest = JSON.parse((await getObject(server, `${host}.json`)) ?? "{}") as { timestamp: string };
  assert.equal(Date.parse(latest.timestamp) / 1000, Math.max(...seconds), "latest is the newest sample");
}

// The outage of outage.test.ts at its real durations: connections refused for 60 s (the agent killed with -9 half-way
// and restarted 2 s later), then 503 for 30 s.
const REFUSE_S = 60;
const KILL_AFTER_S = 30;
const DOWN_S = 2;
const SLOWDOWN_S = 30;

test(`kill -9 ${KILL_AFTER_S} s into a ${REFUSE_S} s outage, then a restart and ${SLOWDOWN_S} s of 503: no gap but the seconds the agent was down, nothing twice`, { timeout: (REFUSE_S + SLOWDOWN_S + 90) * 1000 }, async () => {
  const server = await startServer();
  const host = "crash-host";
  const { cwd, stateDir } = await agentConfig(server, host);
  let agent = startAgent(cwd);
  try {
    await waitFor(async () => ((await listKeys(server, `history/${host}/`)).length >= 2 ? true : undefined), 15_000, "the first uploads");
    const outageStart = nowSecond();
    await server.setFault("refuse");
    await sleep(KILL_AFTER_S * 1000);
    agent.child.kill("SIGKILL");
    const firstLife = await agent.done;
    const killedAt = nowSecond();
    const segments = (await readdir(join(stateDir, "s3"))).filter((name) => name.endsWith(".seg"));
    assert.ok(segments.length > 0, "the spool is on disk");
    await sleep(DOWN_S * 1000);
    const restartedAt = nowSecond();
    agent = startAgent(cwd);
    await sleep((REFUSE_S - KILL_AFTER_S - DOWN_S) * 1000);
    await server.setFault("slowdown");
    await sleep(SLOWDOWN_S * 1000);
    await server.setFault("none");
    await waitDrained(stateDir, 60_000);
    await sleep(1200);
    agent.child.kill("SIGTERM");
    const { code, stderr } = await agent.done;
    assert.equal(code, 0, stderr.slice(-2000));
    assert.match(stderr, /sink s3: \d+ samples spooled by an earlier run in .*; replaying them first/);

    const seconds = await historyOf(server, host);
    const missing = gaps(seconds, firstLife.stderr, stderr);
    assert.ok(missing.length > 0 && missing.every((second) => second >= killedAt - 1 && second <= restartedAt + 5), `missing ${missing.map((s) => s - killedAt).join(",")} s after the kill`);
    const beforeKill = missing.filter((second) => second < killedAt - 1);
    assert.deepEqual(beforeKill, [], `${beforeKill.map((second) => second - outageStart).join(",")} s into the outage, before the kill, are stored`);
    await latestIsNewest(server, host, seconds);
  } finally {
    agent.child.kill("SIGKILL");
    await server.close();
  }
});

test("shutdown with a frozen endpoint: exits 0 within the flush deadline, the unsent samples stay spooled, the next start delivers them", { timeout: 90_000 }, async () => {
  const server = await startServer();
  const host = "frozen-host";
  const { cwd, stateDir } = await agentConfig(server, host, { flushTimeout: 2 });
  let agent = startAgent(cwd);
  try {
    await waitFor(async () => ((await listKeys(server, `history/${host}/`)).length >= 2 ? true : undefined), 15_000, "the first uploads");
    await server.setFault("freeze");
    await sleep(4000);
    const frozenUntil = nowSecond();
    const stopping = Date.now();
    agent.child.kill("SIGTERM");
    const first = await agent.done;
    const took = Date.now() - stopping;
    assert.equal(first.code, 0, first.stderr.slice(-2000));
    assert.ok(took < 1000 + 2000 + 1500, `stopped in ${took} ms (tick ≤ 1 s + flush deadline 2 s)`);
    const status = await readStatusFile(stateDir);
    const spooled = status.sinks.find((sink) => sink.sink === "s3")?.depth ?? 0;
    assert.ok(spooled >= 3, `${spooled} samples in the spool`);
    assert.match(first.stderr, new RegExp(`sink s3: ${spooled} samples stay spooled in .*; the next start delivers them`));

    await server.setFault("none");
    agent = startAgent(cwd);
    await waitDrained(stateDir, 30_000);
    agent.child.kill("SIGTERM");
    assert.equal((await agent.done).code, 0);
    const seconds = await historyOf(server, host);
    for (let second = Math.min(...seconds); second < frozenUntil; second += 1) assert.ok(seconds.includes(second), `${frozenUntil - second} s before the shutdown is stored`);
    await latestIsNewest(server, host, seconds);
  } finally {
    agent.child.kill("SIGKILL");
    await server.close();
  }
});

const execFileAsync = promisify(execFile);

/** Two ways a state directory cannot be written that hold for root too (the tests run as root in CI). */
const UNWRITABLE = [
  {
    kind: "a file where the directory should be",
    code: "ENOTDIR|EEXIST",
    make: (stateDir: string) => writeFile(stateDir, "not a directory"),
    check: async (stateDir: string) => assert.equal(await readFile(stateDir, "utf8"), "not a directory"),
    undo: async () => undefined,
  },
  {
    kind: "a read-only directory (immutable: chattr +i)",
    code: "EPERM|EACCES|EROFS",
    make: async (stateDir: string) => {
      await mkdir(stateDir);
      await execFileAsync("chattr", ["+i", stateDir]);
    },
    check: async (stateDir: string) => assert.deepEqual(await readdir(stateDir), [], "nothing could be written there"),
    undo: (stateDir: string) => execFileAsync("chattr", ["-i", stateDir]).then(() => undefined, () => undefined),
  },
];

for (const { kind, code, make, check, undo } of UNWRITABLE) {
  test(`a state directory that cannot be written (${kind}): clear errors, the agent keeps sampling and delivers what it can`, { timeout: 60_000 }, async () => {
    const server = await startServer();
    const host = "readonly-host";
    const { cwd, stateDir } = await agentConfig(server, host);
    await make(stateDir);
    const agent = startAgent(cwd);
    try {
      await waitFor(async () => ((await listKeys(server, `history/${host}/`)).length >= 2 ? true : undefined), 15_000, "the first uploads");
      await server.setFault("refuse");
      await sleep(4000);
      await server.setFault("none");
      await waitFor(async () => (/sink s3 recovered after/.test(agent.stderr()) ? true : undefined), 20_000, "recovery");
      await sleep(1500);
      agent.child.kill("SIGTERM");
      const { code: exitCode, stderr } = await agent.done;
      assert.equal(exitCode, 0, stderr.slice(-2000));
      assert.match(stderr, new RegExp(`cannot write the status file in .*state: (${code}).*Fix: make stateDir writable`));
      assert.match(stderr, new RegExp(`spool cannot write .*s3: .*(${code}).*keeping up to 10000 unsent samples in memory instead \\(lost if the agent stops\\)\\. Fix:`));
      assert.equal((stderr.match(/spool cannot write/g) ?? []).length, 1, "said once, not every tick");
      const seconds = await historyOf(server, host);
      assert.deepEqual(gaps(seconds, stderr), [], "the outage's samples were kept in memory and delivered");
      await latestIsNewest(server, host, seconds);
      await check(stateDir);
    } finally {
      agent.child.kill("SIGKILL");
      await undo(stateDir);
      await server.close();
    }
  });
}
