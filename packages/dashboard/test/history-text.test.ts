import { before, test } from "node:test";
import assert from "node:assert/strict";
import { historyKey, type ObjectStore } from "@resourcemonitor/layout";
import { createFileStore } from "@resourcemonitor/sink-file";
import { createHistoryCache, createKeyIndexCache, createRunCache, readHistory, readHistoryJson, type HistoryOptions } from "../src/index.js";
import { TextColumn } from "../src/history-text.js";
import { agentDocuments, tempDir, twoGpus, type Doc } from "./seed.js";

// readHistoryJson answers a moving range from the text of its last answer plus the samples listed since
// (src/history-text.ts). Whatever the range, the thinning step, the documents' shapes or what the store
// holds, its answer must be the very text of the general way's (readHistory, JSON.stringify), built anew
// with empty caches; and a range that moved must not be built anew (few summary lookups).

let store: ObjectStore;
let base: Doc;
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

before(async () => {
  store = createFileStore(await tempDir());
  base = (await agentDocuments()).withSensors;
});

/** A document at `time`: 3 sensors, 2 GPUs listed index 1 first, some values varying, some null now and then. */
function documentAt(host: string, time: number, edit?: (doc: Doc) => void): Doc {
  const step = (time - T0) / 1000;
  const doc = structuredClone(base);
  doc.hostname = host;
  doc.timestamp = new Date(time).toISOString().replace(/\.\d+Z$/, "Z");
  doc.cpu.usage_percent = (step * 7.3) % 100;
  doc.cpu.usage_per_core = doc.cpu.usage_per_core.map((_, core) => (step + core * 11.1) % 100);
  doc.cpu.temperatures = doc.cpu.temperatures.map((sensor, index) => ({ ...sensor, temperature: index === 1 && step % 5 === 0 ? null : 40 + ((step + index) % 30) }));
  if (step % 7 === 0) (doc.memory.virtual as { total: number | null }).total = null;
  const gpus = twoGpus(step).reverse();
  if (step % 3 === 0) (gpus[0] as { name: string | null }).name = null;
  doc.gpu = gpus;
  edit?.(doc);
  return doc;
}

async function write(host: string, times: number[], edit?: (doc: Doc) => void): Promise<void> {
  for (const time of times) await store.put(historyKey(host, new Date(time)), JSON.stringify(documentAt(host, time, edit)));
}

const seconds = (from: number, count: number) => Array.from({ length: count }, (_, index) => T0 + (from + index) * 1000);

function options(runs: boolean): HistoryOptions & { lookups: () => number } {
  const cache = createHistoryCache(64 * 1024 * 1024);
  let lookups = 0;
  const get = cache.get.bind(cache);
  cache.get = (key, getOptions) => ((lookups += 1), get(key, getOptions));
  return {
    store,
    prefix: "",
    concurrency: 8,
    intervalSeconds: 1,
    staleAfterSeconds: 30,
    cache,
    keyIndex: createKeyIndexCache(16 * 1024 * 1024),
    ...(runs ? { runs: createRunCache(16 * 1024 * 1024) } : {}),
    maxPoints: 3600,
    lookups: () => lookups,
  };
}

/** Asks `fast` for the range, checks it against the general way, and returns the summary lookups it made. */
async function check(fast: ReturnType<typeof options>, host: string, fromSecond: number, toSecond: number, points?: number): Promise<number> {
  const [from, to] = [new Date(T0 + fromSecond * 1000), new Date(T0 + toSecond * 1000)];
  const before = fast.lookups();
  const text = (await readHistoryJson(fast, host, from, to, points)).toString();
  const lookups = fast.lookups() - before;
  assert.equal(text, JSON.stringify(await readHistory(options(false), host, from, to, points)), `${host} ${fromSecond}..${toSecond}`);
  return lookups;
}

test("a range moving by a second is cut from the last answer, with the same text as one built anew", async () => {
  await write("slide", seconds(0, 60));
  const fast = options(true);
  assert.ok((await check(fast, "slide", 0, 30)) >= 31, "built anew: every sample looked up");
  for (let at = 1; at <= 20; at += 1) {
    const lookups = await check(fast, "slide", at, at + 30);
    assert.ok(lookups <= 2, `${at}: ${lookups} lookups, the range was built anew`);
  }
  // New samples written past the range's end are listed and appended.
  await write("slide", seconds(60, 5));
  assert.ok((await check(fast, "slide", 34, 64)) <= 15, "only the 14 samples after the last range");
  const answer = JSON.parse((await readHistoryJson(fast, "slide", new Date(T0 + 34_000), new Date(T0 + 64_000))).toString()) as { time: number[]; gpus: { index: number }[]; temperatures: { sensors: string[] } };
  assert.equal(answer.time.length, 31);
  assert.deepEqual(answer.gpus.map((gpu) => gpu.index), [0, 1]);
  assert.equal(answer.temperatures.sensors.length, 3);
});

test("thinned ranges (the first of each step) keep the same text as they move, whatever second they start at", async () => {
  await write("thin", seconds(0, 150));
  const fast = options(true);
  await check(fast, "thin", 0, 60, 20);
  for (let at = 1; at <= 40; at += 1) {
    const lookups = await check(fast, "thin", at, at + 60, 20);
    assert.ok(lookups <= 3, `${at}: ${lookups} lookups`);
  }
  // Another step for the same host (a wider window): a run of its own.
  await check(fast, "thin", 0, 120, 20);
  assert.ok((await check(fast, "thin", 3, 123, 20)) <= 3);
});

test("a sample of another shape, or one that is not JSON, is answered the general way while it is in the range", async () => {
  await write("shapes", seconds(0, 30));
  await write("shapes", seconds(30, 1), (doc) => (doc.gpu = []));
  await write("shapes", seconds(31, 30));
  await store.put(historyKey("shapes", new Date(T0 + 45_500)), "{ not json");
  await write("shapes", seconds(61, 40));
  const fast = options(true);
  for (let at = 0; at <= 70; at += 2) await check(fast, "shapes", at, at + 20);
  // Past both, the range is cut from its last answer again.
  assert.ok((await check(fast, "shapes", 72, 92)) <= 3);
});

test("a relisting that finds the same keys keeps the answer's text; one that finds a key written late does not", async (context) => {
  await write("relist", seconds(10, 60));
  const fast = options(true);
  // A range is listed in full again at most once a minute: the clock is moved past that.
  context.mock.timers.enable({ apis: ["Date"], now: T0 + 600_000 });
  await check(fast, "relist", 30, 60);
  context.mock.timers.tick(61_000);
  const relisted = await check(fast, "relist", 31, 61);
  assert.ok(relisted <= 2, `the same keys, listed again: ${relisted} lookups`);
  // A key written late (an agent's spool) inside what was listed: the next full listing finds it.
  await store.put(historyKey("relist", new Date(T0 + 40_000)).replace(".json", "_1.json"), JSON.stringify(documentAt("relist", T0 + 40_000)));
  context.mock.timers.tick(61_000);
  assert.ok((await check(fast, "relist", 33, 63)) >= 30, "a key more than known: built anew");
  assert.ok((await check(fast, "relist", 34, 64)) <= 2);
  // A range that starts before the known one is built anew too.
  await check(fast, "relist", 20, 64);
});

test("requests for the same range at once get the same answer", async () => {
  await write("together", seconds(0, 40));
  const fast = options(true);
  await check(fast, "together", 0, 20);
  const ranges = [1, 1, 2, 3, 3];
  const answers = await Promise.all(ranges.map((at) => readHistoryJson(fast, "together", new Date(T0 + at * 1000), new Date(T0 + (at + 20) * 1000))));
  for (const [position, at] of ranges.entries()) {
    assert.equal(answers[position]?.toString(), JSON.stringify(await readHistory(options(false), "together", new Date(T0 + at * 1000), new Date(T0 + (at + 20) * 1000))));
  }
});

test("a column's bytes, once handed out, do not change as values are added or dropped", () => {
  const column = new TextColumn();
  const expected = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => String((index + from) * 1.5)).join(",");
  for (let value = 0; value < 100; value += 1) column.push(String(value * 1.5));
  const beforeGrowing = column.slice(10, 20);
  for (let value = 100; value < 2000; value += 1) column.push(String(value * 1.5));
  const beforeDropping = column.slice(0, 30);
  column.drop(50);
  column.push("null");
  assert.equal(beforeGrowing.toString(), expected(10, 20));
  assert.equal(beforeDropping.toString(), expected(0, 30));
  assert.equal(column.length, 1951);
  assert.equal(column.slice(0, 2).toString(), "75,76.5");
  assert.equal(column.slice(1949, 1951).toString(), "2998.5,null");
  assert.equal(column.slice(3, 3).length, 0);
});
