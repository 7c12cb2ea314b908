// The outage at its real durations: the S3 server refuses connections for 60 s, then answers
// 503 for 30 s, then recovers; afterwards history holds one object per second of the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep, waitFor } from "./cli-helpers.js";
import { agentConfig, gaps, getObject, historySeconds, listKeys, startAgent, startServer, waitDrained } from "./delivery-helpers.js";

const REFUSE_S = 60;
const SLOWDOWN_S = 30;

test(`outage: connections refused ${REFUSE_S} s, then 503 for ${SLOWDOWN_S} s: no gap, no duplicate, latest is the newest`, { timeout: (REFUSE_S + SLOWDOWN_S + 90) * 1000 }, async () => {
  const server = await startServer();
  const host = "outage-host";
  const { cwd, stateDir } = await agentConfig(server, host);
  const agent = startAgent(cwd);
  try {
    await waitFor(async () => ((await listKeys(server, `history/${host}/`)).length >= 2 ? true : undefined), 15_000, "the first uploads");
    const outageStart = Date.now();
    await server.setFault("refuse");
    await sleep(REFUSE_S * 1000);
    await server.setFault("slowdown");
    await sleep(SLOWDOWN_S * 1000);
    await server.setFault("none");
    const outageEnd = Date.now();
    await waitDrained(stateDir, 60_000);
    await sleep(1500);
    agent.child.kill("SIGTERM");
    const { code, stderr } = await agent.done;
    assert.equal(code, 0, stderr.slice(-2000));

    const keys = await listKeys(server, `history/${host}/`);
    const seconds = historySeconds(keys);
    assert.equal(new Set(seconds).size, seconds.length, "no second stored twice");
    const logged = stderr.split("\n").filter((line) => /"level":(40|50)|"msg":"stopped"/.test(line));
    assert.deepEqual(gaps(seconds, stderr), [], `no second missing; the agent's warnings and its last line:\n${logged.join("\n").slice(-3000)}`);
    assert.ok(Math.min(...seconds) < outageStart / 1000 && Math.max(...seconds) > outageEnd / 1000, "the run covers the whole outage");
    assert.ok(seconds.length >= REFUSE_S + SLOWDOWN_S + 3, `${seconds.length} objects`);

    const latest = JSON.parse((await getObject(server, `${host}.json`)) ?? "{}") as { timestamp: string };
    assert.equal(Date.parse(latest.timestamp) / 1000, Math.max(...seconds), "latest is the newest sample");
    const list = JSON.parse((await getObject(server, "list.json")) ?? "{}") as Record<string, string>;
    assert.ok(list[host], "the host is in list.json");

    const lines = stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { level: number; msg: string });
    assert.equal(lines.filter((line) => /^sink s3 is down: /.test(line.msg)).length, 1, "one line when the sink goes down");
    const recovered = lines.find((line) => /^sink s3 recovered after \d+ (s|min): replayed (\d+) spooled samples$/.test(line.msg));
    assert.ok(recovered, "one line when it recovers, with the count replayed");
    assert.ok(Number(/replayed (\d+)/.exec(recovered.msg)?.[1]) >= REFUSE_S + SLOWDOWN_S - 2, recovered.msg);
    assert.ok(!stderr.includes("outage-test-secret"), "no secret in the log");
  } finally {
    agent.child.kill("SIGKILL");
    await server.close();
  }
});
