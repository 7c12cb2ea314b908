import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { launchChromium, type Browser } from "./browser.js";

// In real Chromium: the page's dense line builder against uPlot's own linear builder on the same plots,
// comparing every lineTo/moveTo each puts into its path.

let browser: Browser;
let page: Page;

const ENTRY = `
import uPlot from "uplot";
import { densePaths } from "../page/dense-path.js";
const calls = new WeakMap();
for (const name of ["lineTo", "moveTo"]) {
  const original = Path2D.prototype[name];
  Path2D.prototype[name] = function (...args) {
    if (!calls.has(this)) calls.set(this, []);
    calls.get(this).push([name, ...args]);
    return original.apply(this, args);
  };
}
const linear = uPlot.paths.linear();
/** Both builders' calls for every series of a plot of \`columns\` (time first), \`width\` px wide. */
globalThis.compare = async ({ columns, width, range }) => {
  const box = document.createElement("div");
  document.body.append(box);
  const plot = new uPlot({ width, height: 220, scales: { x: { time: true }, y: range ? { range } : {} }, series: [{}, ...columns.slice(1).map(() => ({ points: { show: false } }))] }, columns, box);
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const answer = [];
  // uPlot's builder places every x through the plot's valToPosH; the dense one never calls it.
  const valToPosH = plot.valToPosH;
  let placed = 0;
  plot.valToPosH = (...args) => ((placed += 1), valToPosH(...args));
  for (let series = 1; series < columns.length; series += 1) {
    const last = columns[0].length - 1;
    placed = 0;
    const mine = densePaths(plot, series, 0, last);
    const dense = placed === 0;
    const theirs = linear(plot, series, 0, last);
    answer.push({ dense, mine: calls.get(mine.stroke) ?? [], theirs: calls.get(theirs.stroke) ?? [], clip: [mine.clip !== null, theirs.clip !== null] });
  }
  plot.destroy();
  box.remove();
  return answer;
};
`;

before(async () => {
  const bundle = await build({ stdin: { contents: ENTRY, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "js" }, bundle: true, write: false, format: "iife", logLevel: "warning" });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
});

after(async () => {
  await browser?.close();
});

type Calls = [string, number, number][];
const compare = (columns: (number | null)[][], width: number, range?: [number, number]) =>
  page.evaluate((args) => (globalThis as unknown as { compare: (a: unknown) => Promise<{ dense: boolean; mine: Calls; theirs: Calls; clip: boolean[] }[]> }).compare(args), { columns, width, range });

/** An hour at 1 s ending at a whole second. */
const hour = (count = 3600) => Array.from({ length: count }, (_, index) => 1_790_000_000 + index);
/** Repeatable noise in [0, 1). */
const noise = (seed: number) => (index: number) => {
  const value = Math.sin(index * 12.9898 + seed * 78.233) * 43758.5453;
  return value - Math.floor(value);
};

test("for an hour at 1 s in a chart a few hundred pixels wide, the dense builder draws exactly uPlot's line", async () => {
  const time = hour();
  const random = noise(1);
  const spiky = noise(2);
  const columns = [
    time,
    time.map((_, index) => Math.round(random(index) * 1000) / 10), // CPU-like noise, 0-100
    time.map((_, index) => (index % 97 === 0 ? 100 : 3 + spiky(index))), // rare one-second spikes
    time.map(() => 42), // flat
    time.map((_, index) => 50 + 40 * Math.sin(index / 300)), // smooth
    time.map((_, index) => Math.floor(index / 600)), // steps
  ];
  for (const width of [652, 400, 300]) {
    for (const range of [[0, 100] as [number, number], undefined]) {
      const series = await compare(columns, width, range);
      for (const [index, { dense, mine, theirs }] of series.entries()) {
        assert.ok(dense, `series ${index + 1} at ${width} px is built by the dense builder`);
        assert.ok(theirs.length > 2, `series ${index + 1} at ${width} px draws a line`);
        assert.deepEqual(mine, theirs, `series ${index + 1} at ${width} px, range ${JSON.stringify(range)}`);
      }
    }
  }
});

test("a series with gaps, or too few samples to thin, is left to uPlot's builder (the same path, gaps clipped)", async () => {
  const time = hour();
  const random = noise(3);
  const gappy = time.map((_, index) => (index > 1000 && index < 1300 ? null : random(index) * 100));
  const edges = time.map((_, index) => (index < 50 || index > 3500 ? null : random(index) * 100));
  const [withGap, withEdges] = await compare([time, gappy, edges], 652, [0, 100]);
  assert.equal(withGap?.dense, false);
  assert.deepEqual(withGap?.mine, withGap?.theirs);
  assert.deepEqual(withGap?.clip, [true, true], "the gap is clipped out by uPlot's builder");
  assert.equal(withEdges?.dense, true, "empty ends are no gap");
  assert.deepEqual(withEdges?.mine, withEdges?.theirs, "empty ends are trimmed as uPlot trims them");
  const short = hour(900);
  const [sparse] = await compare([short, short.map((_, index) => random(index) * 100)], 652, [0, 100]);
  assert.ok((sparse?.theirs.length ?? 0) >= 899, "one point per sample below 4 per pixel");
  assert.equal(sparse?.dense, false);
  assert.deepEqual(sparse?.mine, sparse?.theirs);
});
