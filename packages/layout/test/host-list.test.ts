import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HostListConflictError,
  mergeHostList,
  parseListTimestamp,
  PreconditionFailedError,
  readHostList,
  updateHostList,
  type PutOptions,
} from "../src/index.js";
import { listAll, MemoryStore } from "../src/testing.js";

const NOW = new Date("2025-08-05T14:30:22Z");
const stampBefore = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(".000Z", "Z");
const FAST = { baseDelayMs: 1, maxDelayMs: 2 };

test("merge into no list creates it with this host", () => {
  assert.deepEqual(mergeHostList(undefined, "server01", NOW), { list: { server01: "2025-08-05T14:30:22Z" }, corrupt: false, legacy: false, dropped: [] });
});

test("merge upserts this host's entry and keeps fresh ones, names in order", () => {
  const current = JSON.stringify({ workstation: stampBefore(60), server01: stampBefore(30), server02: stampBefore(299) });
  const merged = mergeHostList(current, "server01", NOW);
  assert.deepEqual(merged.list, { server01: "2025-08-05T14:30:22Z", server02: "2025-08-05T14:25:23Z", workstation: "2025-08-05T14:29:22Z" });
  assert.deepEqual(Object.keys(merged.list), ["server01", "server02", "workstation"]);
  assert.deepEqual(merged.dropped, []);
});

test("merge drops entries older than five minutes, keeps one of exactly five", () => {
  const current = JSON.stringify({ old: stampBefore(301), edge: stampBefore(300), fresh: stampBefore(1) });
  const merged = mergeHostList(current, "me", NOW);
  assert.deepEqual(Object.keys(merged.list), ["edge", "fresh", "me"]);
  assert.deepEqual(merged.dropped, ["old"]);
  assert.deepEqual(Object.keys(mergeHostList(current, "me", NOW, 10_000).list), ["fresh", "me"], "maxAgeMs is honoured");
});

test("merge drops entries whose value is no timestamp, or whose name is no valid hostname", () => {
  const current = JSON.stringify({
    number: 1754404222,
    empty: "",
    words: "yesterday",
    nil: null,
    month13: "2025-13-05T14:30:22Z",
    "../escape": stampBefore(1),
    "far-future": "2099-01-01T00:00:00Z",
    ok: stampBefore(2),
  });
  const merged = mergeHostList(current, "me", NOW);
  assert.deepEqual(merged.list, { me: "2025-08-05T14:30:22Z", ok: "2025-08-05T14:30:20Z" });
  assert.deepEqual(merged.dropped.sort(), ["../escape", "empty", "far-future", "month13", "nil", "number", "words"]);
  assert.equal(merged.corrupt, false);
});

test("merge normalizes timestamps the original agent wrote, without zone or with microseconds, as UTC", () => {
  const merged = mergeHostList(JSON.stringify({ py: "2025-08-05T14:29:00.123456", offset: "2025-08-05T16:29:30+02:00" }), "me", NOW);
  assert.deepEqual(merged.list, { me: "2025-08-05T14:30:22Z", offset: "2025-08-05T14:29:30Z", py: "2025-08-05T14:29:00Z" });
  assert.equal(parseListTimestamp("2025-08-05T14:29:00"), Date.UTC(2025, 7, 5, 14, 29, 0));
  assert.equal(parseListTimestamp("5 Aug 2025"), undefined);
});

test("merge converts the legacy array of hostnames into entries stamped now", () => {
  const merged = mergeHostList(JSON.stringify(["server02", "server01", "../bad"]), "workstation", NOW);
  assert.deepEqual(merged.list, { server01: "2025-08-05T14:30:22Z", server02: "2025-08-05T14:30:22Z", workstation: "2025-08-05T14:30:22Z" });
  assert.equal(merged.legacy, true);
  assert.equal(merged.corrupt, false);
  assert.deepEqual(merged.dropped, ["../bad"]);
  assert.deepEqual(mergeHostList("[]", "me", NOW).list, { me: "2025-08-05T14:30:22Z" });
});

test("merge treats anything else as corrupt and rebuilds from this host alone", () => {
  for (const text of ["", "{", "not json", "null", "42", '"server01"', "true"]) {
    const merged = mergeHostList(text, "me", NOW);
    assert.equal(merged.corrupt, true, text);
    assert.deepEqual(merged.list, { me: "2025-08-05T14:30:22Z" }, text);
  }
});

test("a legacy array with things that are no names keeps the names", () => {
  const merged = mergeHostList('["server01", 7, null, {"server02": 1}, ["x"]]', "me", NOW);
  assert.deepEqual(merged.list, { me: "2025-08-05T14:30:22Z", server01: "2025-08-05T14:30:22Z" });
  assert.equal(merged.legacy, true);
  assert.equal(merged.corrupt, false);
});

test("a truncated, garbled or huge list.json is corrupt, but the entries still readable in it are kept", () => {
  const fresh = { "server-a": stampBefore(10), "server-b": stampBefore(20) };
  const text = JSON.stringify({ ...fresh, stale: stampBefore(600) }, null, 2);
  for (const broken of [text.slice(0, -2), `garbage${text}garbage`, text.replace(",", ",,"), `${text}${" ".repeat(9 * 1024 * 1024)}`]) {
    const merged = mergeHostList(broken, "me", NOW);
    assert.equal(merged.corrupt, true);
    assert.deepEqual(merged.list, { me: "2025-08-05T14:30:22Z", "server-a": fresh["server-a"], "server-b": fresh["server-b"] });
    assert.deepEqual(merged.dropped, ["stale"]);
  }
});

test("merge keeps a host named __proto__ as a plain entry", () => {
  const merged = mergeHostList(JSON.stringify({ ["__proto__"]: stampBefore(1) }), "me", NOW);
  assert.deepEqual(Object.keys(merged.list), ["__proto__", "me"]);
  assert.equal(Object.getPrototypeOf(merged.list), Object.prototype);
});

test("updateHostList writes list.json with ifNoneMatch when there is none, then with ifMatch", async () => {
  const conditions: PutOptions[] = [];
  const store = new MemoryStore();
  const put = store.put.bind(store);
  store.put = (key, body, options = {}) => (conditions.push(options), put(key, body, options));
  await updateHostList(store, "server01", NOW);
  await updateHostList(store, "server02", NOW, { prefix: "" });
  assert.equal(conditions[0]?.ifNoneMatch, "*");
  assert.equal(conditions[1]?.ifMatch, "1");
  assert.equal(store.contentTypeOf("list.json"), "application/json");
  assert.deepEqual(JSON.parse((await store.get("list.json"))?.body ?? ""), { server01: "2025-08-05T14:30:22Z", server02: "2025-08-05T14:30:22Z" });
});

/** A store where another host writes list.json between our read and our write, `conflicts` times. */
function storeWithRival(conflicts: number): { store: MemoryStore; rivalWrites: () => number } {
  const store = new MemoryStore();
  const get = store.get.bind(store);
  let rivalWrites = 0;
  store.get = async (key) => {
    const current = await get(key);
    if (key.endsWith("list.json") && rivalWrites < conflicts) {
      rivalWrites += 1;
      await updateHostList({ ...store, get, put: store.put.bind(store), list: store.list.bind(store), description: "rival" }, `rival-${rivalWrites}`, NOW);
    }
    return current;
  };
  return { store, rivalWrites: () => rivalWrites };
}

test("updateHostList re-reads and retries when another writer got in between, losing nobody", async () => {
  const { store, rivalWrites } = storeWithRival(3);
  const update = await updateHostList(store, "me", NOW, FAST);
  assert.equal(rivalWrites(), 3);
  assert.equal(update.attempts, 4);
  assert.deepEqual(Object.keys(update.list), ["me", "rival-1", "rival-2", "rival-3"]);
  assert.deepEqual(JSON.parse((await store.get("list.json"))?.body ?? ""), update.list);
});

test("updateHostList gives up after maxAttempts with a clear error", async () => {
  const { store } = storeWithRival(Number.POSITIVE_INFINITY);
  await assert.rejects(updateHostList(store, "me", NOW, { ...FAST, maxAttempts: 3 }), (error: unknown) => {
    assert.ok(error instanceof HostListConflictError);
    assert.equal(error.attempts, 3);
    assert.match(error.message, /list\.json.*3 times/);
    return true;
  });
});

test("updateHostList passes other store errors through at once", async () => {
  const store = new MemoryStore();
  store.put = () => Promise.reject(new Error("disk full"));
  await assert.rejects(updateHostList(store, "me", NOW), /disk full/);
});

test("a PreconditionFailedError thrown by another copy of the package is recognised by name", async () => {
  const store = new MemoryStore();
  let failures = 0;
  const put = store.put.bind(store);
  store.put = (key, body, options) => {
    if (failures++ === 0) {
      const foreign = new Error("changed");
      foreign.name = "PreconditionFailedError";
      return Promise.reject(foreign);
    }
    return put(key, body, options);
  };
  assert.equal((await updateHostList(store, "me", NOW, FAST)).attempts, 2);
});

test("a corrupt list.json is kept aside under list.json.corrupt-<time>, reported, then rebuilt", async () => {
  const store = new MemoryStore();
  await store.put("p/list.json", "{ half a list");
  await store.put("p/list.json.corrupt-20250805_143022", "an older corrupt copy");
  const update = await updateHostList(store, "me", NOW, { prefix: "p" });
  assert.equal(update.corrupt, true);
  assert.deepEqual(update.corruptCopies, ["p/list.json.corrupt-20250805_143022_1"]);
  assert.equal((await store.get("p/list.json.corrupt-20250805_143022_1"))?.body, "{ half a list");
  assert.equal((await store.get("p/list.json.corrupt-20250805_143022"))?.body, "an older corrupt copy", "never overwritten");
  assert.deepEqual(JSON.parse((await store.get("p/list.json"))?.body ?? ""), { me: "2025-08-05T14:30:22Z" });
  const next = await updateHostList(store, "other", NOW, { prefix: "p" });
  assert.deepEqual(next.corruptCopies, []);
  assert.deepEqual(await listAll(store, "p/"), ["p/list.json", "p/list.json.corrupt-20250805_143022", "p/list.json.corrupt-20250805_143022_1"]);
});

test("a corrupt list.json that stays the same across a retry is kept aside once", async () => {
  const store = new MemoryStore();
  await store.put("list.json", "garbage");
  const put = store.put.bind(store);
  let listWrites = 0;
  store.put = (key, body, options) =>
    key === "list.json" && listWrites++ === 0 ? Promise.reject(new PreconditionFailedError(key, "ifMatch")) : put(key, body, options);
  const update = await updateHostList(store, "me", NOW, FAST);
  assert.equal(update.attempts, 2);
  assert.deepEqual(update.corruptCopies, ["list.json.corrupt-20250805_143022"]);
});

test("readHostList keeps every valid name whatever its age; legacy names carry no time; corrupt is undefined", () => {
  const reading = readHostList(JSON.stringify({ old: "2020-01-01T00:00:00Z", naive: "2025-08-05T14:30:22", bad: 5, "a/b": stampBefore(1) }));
  assert.deepEqual([...(reading?.hosts ?? [])], [
    ["old", Date.parse("2020-01-01T00:00:00Z")],
    ["naive", NOW.getTime()],
    ["bad", undefined],
  ]);
  assert.equal(reading?.legacy, false);
  const legacy = readHostList('["server01", "server02"]');
  assert.deepEqual([...(legacy?.hosts ?? [])], [["server01", undefined], ["server02", undefined]]);
  assert.equal(legacy?.legacy, true);
  assert.equal(readHostList("{not json"), undefined);
  assert.equal(readHostList("[1, 2]")?.hosts.size, 0, "an array without names is an empty legacy list");
});

test("skipIfListedSince: an entry of this host at or after that time is left as it is, nothing written", async () => {
  const store = new MemoryStore();
  await store.put("list.json", JSON.stringify({ me: "2025-08-05T14:30:00Z", other: "2025-08-05T14:29:00Z" }));
  const since = Date.parse("2025-08-05T14:30:00Z");
  const update = await updateHostList(store, "me", NOW, { skipIfListedSince: since });
  assert.equal(update.written, false);
  assert.equal(update.list.me, "2025-08-05T14:30:00Z");
  assert.deepEqual(store.calls, { get: 1, put: 1 }, "only the set-up's put");
  const older = await updateHostList(store, "me", NOW, { skipIfListedSince: since + 1000 });
  assert.equal(older.written, true);
  assert.equal(JSON.parse((await store.get("list.json"))?.body ?? "").me, "2025-08-05T14:30:22Z");
});

test("skipIfListedSince never skips a legacy or corrupt list: it is converted or kept aside as always", async () => {
  const since = Date.parse("2025-08-05T14:00:00Z");
  const legacy = new MemoryStore();
  await legacy.put("list.json", JSON.stringify(["me", "other"]));
  const converted = await updateHostList(legacy, "me", NOW, { skipIfListedSince: since });
  assert.equal(converted.written, true);
  assert.equal(converted.legacy, true);
  const corrupt = new MemoryStore();
  await corrupt.put("list.json", '{"me": "2025-08-05T14:30:00Z", "oth');
  const rebuilt = await updateHostList(corrupt, "me", NOW, { skipIfListedSince: since });
  assert.equal(rebuilt.written, true);
  assert.equal(rebuilt.corruptCopies.length, 1);
});

test("skipIfListedSince: an entry a day or more past that time is garbage and gets rewritten", async () => {
  const store = new MemoryStore();
  await store.put("list.json", JSON.stringify({ me: "2025-08-07T14:30:00Z" }));
  const update = await updateHostList(store, "me", NOW, { skipIfListedSince: Date.parse("2025-08-05T14:30:00Z") });
  assert.equal(update.written, true);
  assert.equal(update.list.me, "2025-08-05T14:30:22Z");
});
