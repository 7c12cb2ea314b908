import { test } from "node:test";
import assert from "node:assert/strict";
import { createSampleWriter, latestModeFor, writeSample } from "../src/index.js";
import { listAll, MemoryStore } from "../src/testing.js";

const NOW = new Date("2025-08-05T14:30:25Z");
const documentAt = (timestamp: string, extra: Record<string, unknown> = {}) => ({ timestamp, hostname: "server01", ...extra });

test("writeSample puts history, then latest, then list.json, all as application/json", async () => {
  const store = new MemoryStore();
  const order: string[] = [];
  const put = store.put.bind(store);
  store.put = (key, body, options) => (order.push(key), put(key, body, options));
  const document = documentAt("2025-08-05T14:30:22Z", { cpu: { usage_percent: 3.5 } });
  const json = JSON.stringify(document);
  const written = await writeSample(store, document, json, { prefix: "fleet", now: NOW });
  assert.deepEqual(order, ["fleet/history/server01/20250805_143022.json", "fleet/server01.json", "fleet/list.json"]);
  assert.deepEqual(
    { historyKey: written.historyKey, latestKey: written.latestKey, historyExisted: written.historyExisted, list: written.hostList?.list },
    {
      historyKey: "fleet/history/server01/20250805_143022.json",
      latestKey: "fleet/server01.json",
      historyExisted: false,
      list: { server01: "2025-08-05T14:30:25Z" },
    },
  );
  for (const key of order) assert.equal(store.contentTypeOf(key), "application/json", key);
  assert.equal((await store.get("fleet/server01.json"))?.body, json);
  assert.equal((await store.get(written.historyKey))?.body, json);
});

test("history is never overwritten: other documents of the same second get _1, _2 … in time order", async () => {
  const store = new MemoryStore();
  const keys: string[] = [];
  for (let n = 0; n < 12; n += 1) {
    const document = documentAt("2025-08-05T14:30:22Z", { n });
    keys.push((await writeSample(store, document, JSON.stringify(document), { now: NOW })).historyKey);
  }
  const later = documentAt("2025-08-05T14:30:23Z");
  keys.push((await writeSample(store, later, JSON.stringify(later), { now: NOW })).historyKey);
  assert.deepEqual(keys.slice(0, 4), [
    "history/server01/20250805_143022.json",
    "history/server01/20250805_143022_1.json",
    "history/server01/20250805_143022_2.json",
    "history/server01/20250805_143022_3.json",
  ]);
  assert.deepEqual(await listAll(store, "history/server01/"), keys, "listing order is time order");
  for (const [n, key] of keys.slice(0, 12).entries()) assert.equal((JSON.parse((await store.get(key))?.body ?? "") as { n: number }).n, n);
});

test("a replayed document already in history is not stored twice", async () => {
  const store = new MemoryStore();
  const document = documentAt("2025-08-05T14:30:22Z");
  const json = JSON.stringify(document);
  await writeSample(store, document, json, { now: NOW });
  const replay = await writeSample(store, document, json, { now: NOW });
  assert.equal(replay.historyExisted, true);
  assert.equal(replay.historyKey, "history/server01/20250805_143022.json");
  assert.deepEqual(await listAll(store, "history/"), ["history/server01/20250805_143022.json"]);
});

test("history keys use the document's time, list.json the upload time", async () => {
  const store = new MemoryStore();
  const document = documentAt("2025-08-05T13:00:00Z");
  const written = await writeSample(store, document, JSON.stringify(document), { now: NOW });
  assert.equal(written.historyKey, "history/server01/20250805_130000.json");
  assert.deepEqual(written.hostList?.list, { server01: "2025-08-05T14:30:25Z" });
});

test("writeSample refuses a bad hostname or timestamp before writing anything", async () => {
  const store = new MemoryStore();
  await assert.rejects(writeSample(store, { timestamp: "2025-08-05T14:30:22Z", hostname: "../x" }, "{}"), /invalid hostname/);
  await assert.rejects(writeSample(store, { timestamp: "soon", hostname: "server01" }, "{}"), /timestamp "soon" is not a date/);
  assert.deepEqual(await listAll(store, ""), []);
});

test("a replayed sample writes history always, <host>.json and list.json only when it is newer", async () => {
  const store = new MemoryStore();
  const newer = documentAt("2025-08-05T14:30:24Z");
  const older = documentAt("2025-08-05T14:30:20Z");
  await writeSample(store, newer, JSON.stringify(newer), { now: NOW });
  const listBefore = (await store.get("list.json"))?.body;

  const skipped = await writeSample(store, older, JSON.stringify(older), { now: new Date("2025-08-05T14:31:00Z"), latest: latestModeFor({ replay: true, latest: false }) });
  assert.equal(skipped.hostList, undefined);
  const ifNewer = await writeSample(store, older, JSON.stringify(older), { now: new Date("2025-08-05T14:31:00Z"), latest: latestModeFor({ replay: true, latest: true }) });
  assert.equal(ifNewer.hostList, undefined);
  assert.equal(ifNewer.historyExisted, true, "the second write of the same sample is a replay under the same key");
  assert.equal((await store.get("server01.json"))?.body, JSON.stringify(newer));
  assert.equal((await store.get("list.json"))?.body, listBefore);
  assert.equal((await store.get("history/server01/20250805_143020.json"))?.body, JSON.stringify(older));

  const newest = documentAt("2025-08-05T14:30:26Z");
  const moved = await writeSample(store, newest, JSON.stringify(newest), { now: new Date("2025-08-05T14:31:00Z"), latest: "if-newer" });
  assert.deepEqual(moved.hostList?.list, { server01: "2025-08-05T14:31:00Z" });
  assert.equal((await store.get("server01.json"))?.body, JSON.stringify(newest));
});

test("createSampleWriter takes the same latest modes", async () => {
  const store = new MemoryStore();
  const writer = createSampleWriter(store);
  const newer = documentAt("2025-08-05T14:30:24Z");
  const older = documentAt("2025-08-05T14:30:20Z");
  await writer.write(newer, JSON.stringify(newer), NOW);
  assert.equal((await writer.write(older, JSON.stringify(older), NOW, "if-newer")).hostList, undefined);
  assert.equal((await writer.write(older, JSON.stringify(older), NOW, "skip")).historyExisted, true);
  assert.equal((await store.get("server01.json"))?.body, JSON.stringify(newer));
  assert.deepEqual(latestModeFor(undefined), "always");
  assert.deepEqual(latestModeFor({ replay: false, latest: true }), "always");
});
