import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createSampleWriter, probeKey, readHostList } from "../src/index.js";
import { listAll, MemoryStore } from "../src/testing.js";

const documentAt = (timestamp: string, hostname = "server01") => ({ timestamp, hostname });
const at = (second: number) => new Date(Date.UTC(2025, 7, 5, 14, 30, second));
const stamp = (second: number) => `${at(second).toISOString().slice(0, 19)}Z`;

async function listedHosts(store: MemoryStore, key = "list.json"): Promise<string[]> {
  const text = (await store.get(key))?.body;
  return text === undefined ? [] : [...(readHostList(text)?.hosts.keys() ?? [])].sort();
}

test("by default every sample costs 3 puts and 1 get, as the original agent's upload", async () => {
  const store = new MemoryStore();
  const writer = createSampleWriter(store);
  for (let second = 0; second < 3; second += 1) {
    const written = await writer.write(documentAt(stamp(second)), "{}", at(second));
    assert.ok(written.hostList, `list.json written at second ${second}`);
  }
  assert.deepEqual(store.calls, { get: 3, put: 9 });
});

test("verifyWrites on a store that ignores conditions: a second sample of the same second still gets _1", async () => {
  const store = new MemoryStore({ ignoreConditions: true });
  const writer = createSampleWriter(store, { verifyWrites: true });
  await writer.write(documentAt(stamp(1)), '{"n":1}', at(2));
  await writer.write(documentAt(stamp(1)), '{"n":2}', at(2));
  await writer.write(documentAt(stamp(1)), '{"n":2}', at(3));
  assert.deepEqual(await listAll(store, "history/"), ["history/server01/20250805_143001.json", "history/server01/20250805_143001_1.json"]);
  assert.equal((await store.get("history/server01/20250805_143001.json"))?.body, '{"n":1}');
});

test("without verifyWrites a store that ignores conditions overwrites history: the reason the fallback exists", async () => {
  const store = new MemoryStore({ ignoreConditions: true });
  const writer = createSampleWriter(store);
  await writer.write(documentAt(stamp(1)), '{"n":1}', at(2));
  await writer.write(documentAt(stamp(1)), '{"n":2}', at(2));
  assert.deepEqual(await listAll(store, "history/"), ["history/server01/20250805_143001.json"]);
});

test("verifyWrites: an entry dropped by another writer between refreshes is restored by the next sample", async () => {
  const store = new MemoryStore({ ignoreConditions: true });
  const writer = createSampleWriter(store, { verifyWrites: true, listRefreshMs: 30_000, clock: () => at(0).getTime() });
  await writer.write(documentAt(stamp(0)), "{}", at(0));
  assert.equal((await writer.write(documentAt(stamp(1)), "{}", at(1))).hostList, undefined, "still listed: nothing written");
  await store.put("list.json", JSON.stringify({ other: stamp(1) }));
  const restored = await writer.write(documentAt(stamp(2)), "{}", at(2));
  assert.ok(restored.hostList);
  assert.deepEqual(await listedHosts(store), ["other", "server01"]);
  await writer.close();
});

test("verifyWrites: hosts racing on a store that ignores conditions are all listed after their next sample", async () => {
  const store = new MemoryStore({ ignoreConditions: true });
  const hosts = Array.from({ length: 12 }, (_, index) => `host-${String(index).padStart(2, "0")}`);
  const writers = hosts.map(() => createSampleWriter(store, { verifyWrites: true, listRefreshMs: 30_000, maxAttempts: 50, baseDelayMs: 1, maxDelayMs: 5 }));
  after(() => Promise.all(writers.map((writer) => writer.close())));
  const now = new Date();
  const tick = (second: number) => Promise.all(hosts.map((host, index) => writers[index]?.write(documentAt(stamp(second), host), "{}", now)));
  await tick(0);
  await tick(1);
  assert.deepEqual(await listedHosts(store), hosts);
});

test("probeKey is per host, hidden behind a leading '.', and under the prefix", () => {
  assert.equal(probeKey("server01"), ".resourcemonitor/probe-server01");
  assert.equal(probeKey("server01", "fleet"), "fleet/.resourcemonitor/probe-server01");
  assert.throws(() => probeKey("../x"), /invalid hostname/);
});
