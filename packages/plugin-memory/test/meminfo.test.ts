import { test } from "node:test";
import assert from "node:assert/strict";
import { roundPercent } from "@resourcemonitor/runtime";
import { estimateAvailable, parseMeminfo, sumLowWatermarks, swapMemory, virtualMemory } from "../src/index.js";

test("parseMeminfo splits on the colon and multiplies kB by 1024", () => {
  const fields = parseMeminfo("MemTotal:       16 kB\nShadowCallStack:10 kB\nHugePages_Total:       0\nbogus line\n");
  assert.deepEqual([...fields], [["MemTotal", 16384], ["ShadowCallStack", 10240], ["HugePages_Total", 0]]);
});

test("sumLowWatermarks adds every zone's low line and nothing else", () => {
  assert.equal(sumLowWatermarks("Node 0, zone DMA\n  pages free 5\n        min 1\n        low 2\n        high 3\n   lowmem_reserve: 0\nNode 0, zone Normal\n        low 40\n"), 42);
});

test("estimateAvailable falls back to MemFree + Cached when an input is missing", () => {
  const fields = new Map([["MemFree", 100], ["Cached", 50], ["Active(file)", 10]]);
  assert.equal(estimateAvailable(fields, "low 1\n", 4096), 150);
  assert.equal(estimateAvailable(new Map([...fields, ["Inactive(file)", 10], ["SReclaimable", 5]]), undefined, 4096), 150);
});

test("virtualMemory clamps a negative available to 0", () => {
  assert.deepEqual(virtualMemory(new Map([["MemTotal", 1000], ["MemFree", 10]]), -5), { total: 1000, available: 0, used: 1000, percent: 100, free: 10 });
});

test("a zero total gives percent 0, not NaN", () => {
  assert.equal(virtualMemory(new Map(), 0).percent, 0);
  assert.deepEqual(swapMemory(new Map([["SwapTotal", 0], ["SwapFree", 0]])), { total: 0, used: 0, free: 0, percent: 0 });
});

test("roundPercent rounds half to even on exact ties, like Python's round()", () => {
  assert.equal(roundPercent(12.25), 12.2);
  assert.equal(roundPercent(12.35), 12.3); // 12.35 is 12.3499999… as a double
  assert.equal(roundPercent(12.75), 12.8);
  assert.equal(roundPercent(26.7742), 26.8);
});
