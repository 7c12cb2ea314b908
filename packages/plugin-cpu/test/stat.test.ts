import { test } from "node:test";
import assert from "node:assert/strict";
import { parseStat, perCoreUsage, usagePercent } from "../src/stat.js";

test("parseStat reads the aggregate and per-CPU lines and ignores intr, ctxt and the rest", () => {
  const text = [
    "cpu  10 1 5 100 2 0 1 0 0 0",
    "cpu0 6 1 3 50 1 0 1 0 0 0",
    "cpu1 4 0 2 50 1 0 0 0 0 0",
    `intr 123 ${"0 ".repeat(500)}`,
    "ctxt 4120331",
    "softirq 1 2 3",
    "",
  ].join("\n");
  assert.deepEqual(parseStat(text), {
    total: [10, 1, 5, 100, 2, 0, 1, 0, 0, 0],
    perCpu: [
      [6, 1, 3, 50, 1, 0, 1, 0, 0, 0],
      [4, 0, 2, 50, 1, 0, 0, 0, 0, 0],
    ],
  });
});

test("parseStat accepts 4 to 10 columns, pads the missing ones with 0 and keeps only the first 10", () => {
  assert.deepEqual(parseStat("cpu 1 2 3 4\n")?.total, [1, 2, 3, 4, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseStat("cpu 1 2 3 4 5 6 7\n")?.total, [1, 2, 3, 4, 5, 6, 7, 0, 0, 0]);
  assert.deepEqual(parseStat("cpu 1 2 3 4 5 6 7 8\n")?.total, [1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
  assert.deepEqual(parseStat("cpu 1 2 3 4 5 6 7 8 9 10 11\n")?.total, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("parseStat skips malformed cpu lines and needs the aggregate line", () => {
  assert.deepEqual(parseStat("cpu 1 2 3 4\ncpu0 1 2 3\ncpu1 1 2 x 4\ncpu2 1 2 3 4\n")?.perCpu, [[1, 2, 3, 4, 0, 0, 0, 0, 0, 0]]);
  assert.equal(parseStat("cpu0 1 2 3 4\n"), null);
  assert.equal(parseStat(""), null);
});

test("parseStat keeps per-CPU lines in file order, not by N (offline CPUs are just absent)", () => {
  const snapshot = parseStat("cpu 3 0 0 30\ncpu0 1 0 0 10\ncpu2 2 0 0 20\n");
  assert.deepEqual(snapshot?.perCpu.map((times) => times[0]), [1, 2]);
});

const times = (user: number, nice: number, system: number, idle: number, iowait = 0, irq = 0, softirq = 0, steal = 0, guest = 0, guestNice = 0) => [
  user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice,
];

test("usagePercent: user, nice, system, irq, softirq and steal are busy; idle and iowait are not", () => {
  const before = times(0, 0, 0, 0);
  assert.equal(usagePercent(before, times(10, 5, 5, 60, 20)), 20);
  assert.equal(usagePercent(before, times(0, 0, 0, 50, 0, 10, 10, 30)), 50);
  assert.equal(usagePercent(before, times(0, 0, 0, 0, 100)), 0);
});

test("usagePercent takes guest and guest_nice out of the total (the kernel already counts them in user and nice)", () => {
  // user 30 includes guest 20, nice 10 includes guest_nice 10: total 30+10+60 = 100, busy 40.
  assert.equal(usagePercent(times(0, 0, 0, 0), times(30, 10, 0, 60, 0, 0, 0, 0, 20, 10)), 40);
});

test("usagePercent counts a counter that went backwards as 0", () => {
  // iowait 50 -> 47: delta 0, not -3; total = 20 + 80 = 100.
  assert.equal(usagePercent(times(100, 0, 0, 1000, 50), times(120, 0, 0, 1080, 47)), 20);
});

test("usagePercent is 0.0 when no time passed, and rounds to 1 decimal", () => {
  const same = times(5, 1, 2, 300, 3, 0, 1, 0, 0, 0);
  assert.equal(usagePercent(same, same), 0);
  assert.equal(usagePercent(times(0, 0, 0, 0), times(1, 0, 0, 2)), 33.3);
  assert.equal(usagePercent(times(0, 0, 0, 0), times(2, 0, 0, 1)), 66.7);
});

test("usagePercent matches Python's round() on exact ties: 49/400 is 12.25, which Python rounds to 12.2", () => {
  assert.equal(usagePercent(times(0, 0, 0, 0), times(49, 0, 0, 351)), 12.2);
  assert.equal(usagePercent(times(0, 0, 0, 0), times(51, 0, 0, 349)), 12.8);
});

test("perCoreUsage pairs CPUs by position and cuts to the shorter list", () => {
  const before = [times(0, 0, 0, 0), times(0, 0, 0, 0), times(0, 0, 0, 0)];
  const after = [times(50, 0, 0, 50), times(10, 0, 0, 90)];
  assert.deepEqual(perCoreUsage(before, after), [50, 10]);
  assert.deepEqual(perCoreUsage(after, [...after, times(1, 1, 1, 1)]), [0, 0]);
  assert.deepEqual(perCoreUsage([], after), []);
});
