import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { runCli, startCli, tempDir, waitFor } from "./cli-helpers.js";

const listed = (store: string) => async () => JSON.parse(await readFile(join(store, "list.json"), "utf8")) as Record<string, string>;

test("a second agent on the same state directory is refused (exit 78) while the first runs; a crashed agent's lock is taken over", async () => {
  const dir = await tempDir();
  const stateDir = join(dir, "state");
  const first = startCli(["run", "--interval", "1", "--hostname", "first", "--data-dir", join(dir, "a"), "--state-dir", stateDir]);
  try {
    await waitFor(listed(join(dir, "a")), 5000, "the first agent's list.json");
    assert.equal((await readFile(join(stateDir, "agent.pid"), "utf8")).trim(), String(first.child.pid));

    const second = await runCli(["run", "--interval", "1", "--hostname", "second", "--data-dir", join(dir, "b"), "--state-dir", stateDir]);
    assert.equal(second.code, 78, second.stderr);
    assert.match(second.stderr, new RegExp(`another resourcemonitor \\(pid ${first.child.pid}\\) is using the state directory ${stateDir}`));
    await assert.rejects(stat(join(dir, "b", "list.json")), { code: "ENOENT" }, "the refused agent wrote nothing");
  } finally {
    first.child.kill("SIGKILL");
    await first.done;
  }

  const third = startCli(["run", "--interval", "1", "--hostname", "third", "--data-dir", join(dir, "c"), "--state-dir", stateDir]);
  await waitFor(listed(join(dir, "c")), 5000, "the agent that took over the crashed one's state directory");
  third.child.kill("SIGTERM");
  const { code, stderr } = await third.done;
  assert.equal(code, 0, stderr);
  await assert.rejects(stat(join(stateDir, "agent.pid")), { code: "ENOENT" }, "released on a clean stop");
});
