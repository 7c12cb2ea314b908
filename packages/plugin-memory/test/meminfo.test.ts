import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { roundPercent } from "@resourcemonitor/runtime";
import { estimateInputs, freePlusCached, kernelEstimate, parseMeminfo, sumLowWatermarks, swapMemory, virtualMemory } from "../src/index.js";

const KIB = 1024;

test("parseMeminfo splits on the colon and multiplies kB by 1024", () => {
  const fields = parseMeminfo("MemTotal:       16 kB\nShadowCallStack:10 kB\nHugePages_Total:       0\nbogus line\n");
  assert.deepEqual([...fields], [["MemTotal", 16 * KIB], ["ShadowCallStack", 10 * KIB], ["HugePages_Total", 0]]);
});

test("parseMeminfo skips lines whose value is empty or not a decimal count", () => {
  const fields = parseMeminfo("MemTotal:\nMemFree:   0x10 kB\nCached: -5 kB\nBuffers: 7 kB");
  assert.deepEqual([...fields], [["Buffers", 7 * KIB]]);
});

test("parseMeminfo with names finds exactly those lines, as the full parse does, on every fixture and edge case", () => {
  const names = ["MemTotal", "MemFree", "MemAvailable", "Cached", "Active(file)", "Inactive(file)", "SReclaimable", "SwapTotal", "SwapFree", "Buffers"];
  const directory = fileURLToPath(new URL("testcases/", import.meta.url));
  const texts = readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => readFileSync(join(directory, entry.name, "proc/meminfo"), "latin1"));
  texts.push("MemTotal:\nMemFree:   0x10 kB\nCached: -5 kB\nBuffers: 7 kB", "SwapFree: 5 kB\nXSwapFree: 9 kB", "MemFree:2 kB", "");
  assert.ok(texts.length >= 10);
  for (const text of texts) {
    const all = parseMeminfo(text);
    const expected = names.filter((name) => all.has(name)).map((name) => [name, all.get(name)]);
    assert.deepEqual([...parseMeminfo(text, names)], expected, text.slice(0, 80));
  }
});

test("sumLowWatermarks adds every zone's low line and nothing else", () => {
  const zoneinfo = "Node 0, zone DMA\n  pages free 5\n        min 1\n        low 2\n        high 3\n   protection: (0, 1)\nNode 0, zone Normal\n        low 40\n";
  assert.equal(sumLowWatermarks(zoneinfo), 42);
  assert.equal(sumLowWatermarks(""), 0);
});

test("estimateInputs needs MemFree, Active(file), Inactive(file) and SReclaimable", () => {
  const complete = new Map([["MemFree", 100], ["Active(file)", 30], ["Inactive(file)", 20], ["SReclaimable", 8]]);
  assert.deepEqual(estimateInputs(complete), { free: 100, pageCache: 50, reclaimable: 8 });
  for (const name of complete.keys()) {
    const partial = new Map(complete);
    partial.delete(name);
    assert.equal(estimateInputs(partial), undefined, name);
  }
});

test("kernelEstimate follows the kernel 3.14 formula, the min() terms included", () => {
  // low = 10 pages * 4096 = 40960; pagecache/2 = 50000 > low, reclaimable/2 = 1000 < low.
  const inputs = { free: 500_000, pageCache: 100_000, reclaimable: 2_000 };
  assert.equal(kernelEstimate(inputs, "  low 10\n", 4096), 500_000 - 40_960 + 100_000 - 40_960 + 2_000 - 1_000);
  // Odd halves are kept as fractions until the end, then truncated (psutil: int()).
  assert.equal(kernelEstimate({ free: 10, pageCache: 3, reclaimable: 1 }, "low 1\n", 4096), Math.trunc(10 - 4096 + 3 - 1.5 + 1 - 0.5));
});

test("the estimate can come out negative; virtualMemory then clamps available to 0", () => {
  const available = kernelEstimate({ free: 0, pageCache: 0, reclaimable: 0 }, "low 5\n", 4096);
  assert.equal(available, -20_480);
  assert.deepEqual(virtualMemory(1000, 10, available), { total: 1000, available: 0, used: 1000, percent: 100, free: 10 });
});

test("freePlusCached uses raw Cached, without SReclaimable", () => {
  assert.equal(freePlusCached(new Map([["MemFree", 100], ["Cached", 50], ["SReclaimable", 20]])), 150);
  assert.equal(freePlusCached(new Map([["MemFree", 100]])), 100);
});

test("virtualMemory: available above total is replaced by MemFree (psutil's container rule)", () => {
  assert.deepEqual(virtualMemory(1000, 300, 5000), { total: 1000, available: 300, used: 700, percent: 70, free: 300 });
  assert.deepEqual(virtualMemory(1000, 300, 1000), { total: 1000, available: 1000, used: 0, percent: 0, free: 300 });
});

test("a zero total gives percent 0, not NaN", () => {
  assert.equal(virtualMemory(0, 0, 0).percent, 0);
  assert.deepEqual(swapMemory(new Map([["SwapTotal", 0], ["SwapFree", 0]])), { total: 0, used: 0, free: 0, percent: 0 });
});

test("swapMemory: used = total - free; a missing line is null and so are used and percent", () => {
  assert.deepEqual(swapMemory(new Map([["SwapTotal", 4000], ["SwapFree", 3000]])), { total: 4000, used: 1000, free: 3000, percent: 25 });
  assert.deepEqual(swapMemory(new Map([["SwapTotal", 4000]])), { total: 4000, used: null, free: null, percent: null });
  assert.deepEqual(swapMemory(new Map()), { total: null, used: null, free: null, percent: null });
});

test("roundPercent rounds half to even on exact ties, like Python's round()", () => {
  assert.equal(roundPercent(12.25), 12.2);
  assert.equal(roundPercent(12.35), 12.3); // 12.35 is 12.3499999… as a double
  assert.equal(roundPercent(12.75), 12.8);
  assert.equal(roundPercent(26.7742), 26.8);
});
