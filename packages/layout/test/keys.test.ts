import { test } from "node:test";
import assert from "node:assert/strict";
import {
  collisionSuffix,
  corruptListKey,
  historyKey,
  historyKeyTime,
  historyPrefix,
  keyTimestamp,
  latestKey,
  LIST_KEY,
  listKey,
  normalizePrefix,
} from "../src/index.js";

const AUG_5 = new Date("2025-08-05T14:30:22Z");

test("latest key is <prefix><host>.json", () => {
  assert.equal(latestKey("server01"), "server01.json");
  assert.equal(latestKey("server01", "monitoring/"), "monitoring/server01.json");
  assert.equal(latestKey("gpu-box.lab.example.com", "a/b"), "a/b/gpu-box.lab.example.com.json");
});

test("history key is <prefix>history/<host>/<YYYYMMDD_HHMMSS>.json in UTC", () => {
  assert.equal(historyKey("server01", AUG_5), "history/server01/20250805_143022.json");
  assert.equal(historyKey("server01", AUG_5, "fleet/"), "fleet/history/server01/20250805_143022.json");
  // 23:59:59 at UTC-05:00 is the next day in UTC.
  assert.equal(historyKey("ws", new Date("2025-12-31T23:59:59-05:00")), "history/ws/20260101_045959.json");
  assert.equal(historyKey("ws", new Date("2025-01-02T03:04:05.999Z")), "history/ws/20250102_030405.json", "milliseconds are cut, not rounded");
  assert.equal(historyPrefix("ws", "p"), "p/history/ws/");
});

test("list key is list.json under the prefix", () => {
  assert.equal(LIST_KEY, "list.json");
  assert.equal(listKey(), "list.json");
  assert.equal(listKey("monitoring"), "monitoring/list.json");
});

test("collision suffixes _1, _2 … sort after the plain key and before the next second", () => {
  assert.deepEqual([0, 1, 2, 9, 10, 18, 19].map(collisionSuffix), ["", "_1", "_2", "_9", "_91", "_99", "_991"]);
  const keys = Array.from({ length: 40 }, (_, attempt) => historyKey("h", AUG_5, "", attempt));
  keys.push(historyKey("h", new Date("2025-08-05T14:30:23Z")));
  assert.deepEqual([...keys].sort(), keys);
  assert.throws(() => collisionSuffix(-1), RangeError);
});

test("a corrupt list copy is named after the time and can never be a <host>.json", () => {
  assert.equal(corruptListKey(AUG_5), "list.json.corrupt-20250805_143022");
  assert.equal(corruptListKey(AUG_5, "p/", 1), "p/list.json.corrupt-20250805_143022_1");
  assert.ok(!corruptListKey(AUG_5, "", 5).endsWith(".json"));
});

test("prefixes gain a trailing slash and may not escape or confuse the layout", () => {
  assert.equal(normalizePrefix(""), "");
  assert.equal(normalizePrefix(), "");
  assert.equal(normalizePrefix("monitoring"), "monitoring/");
  assert.equal(normalizePrefix("a/b/"), "a/b/");
  for (const bad of ["/abs", "a//b", "../up", "a/../b", "./a", "a\\b", "a\nb", "/"]) {
    assert.throws(() => normalizePrefix(bad), /invalid key prefix/, bad);
  }
});

test("key functions refuse a hostname that would escape its key", () => {
  assert.throws(() => latestKey("../etc/passwd"), /invalid hostname/);
  assert.throws(() => historyKey("a/b", AUG_5), /invalid hostname/);
});

test("key timestamps refuse dates they cannot name", () => {
  assert.throws(() => keyTimestamp(new Date("nonsense")), RangeError);
  assert.throws(() => keyTimestamp(new Date("+010000-01-01T00:00:00Z")), RangeError);
  assert.equal(keyTimestamp(new Date("0999-02-03T04:05:06Z")), "09990203_040506");
});

test("historyKeyTime reads back the time of every history key, collision suffixes included, and nothing else", () => {
  for (const attempt of [0, 1, 9, 10, 25]) assert.deepEqual(historyKeyTime(historyKey("server01", AUG_5, "p", attempt)), AUG_5);
  assert.deepEqual(historyKeyTime("00010101_000000.json"), new Date("0001-01-01T00:00:00Z"));
  for (const name of ["list.json", "20250805_143022.json.tmp", "20250805_143022_0.json", "20251305_143022.json", "20250231_000000.json", "20250805_243022.json", "x/20250805_1430.json"]) {
    assert.equal(historyKeyTime(name), undefined, name);
  }
});
