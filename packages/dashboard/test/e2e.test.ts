import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { createFileStore } from "@resourcemonitor/sink-file";
import { startDashboard, type Dashboard } from "../src/index.js";
import { celsius, percent } from "../page/format.js";
import { buildPage, launchChromium, screenshot, type Browser } from "./browser.js";
import { startS3 } from "./s3.js";
import { seedFleet, tempDir, type Doc, type Seeded } from "./seed.js";

let seeded: Seeded;
let dashboard: Dashboard;
let browser: Browser;
let page: Page;
/** A blank page that decodes screenshots, away from the dashboard's content security policy. */
let scratch: Page;

before(async () => {
  const store = createFileStore(await tempDir());
  [seeded] = await Promise.all([seedFleet(store), buildPage()]);
  dashboard = await startDashboard({ store, port: 0, intervalSeconds: 1, staleAfterSeconds: 60 });
  browser = await launchChromium();
  page = await browser.context.newPage();
  scratch = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
});

const cell = (host: string, column: string) => page.locator(`tr[data-host="${host}"] [data-col="${column}"]`);
const hostOrder = () => page.locator("tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-host")));

async function assertNotBlank(name: string): Promise<void> {
  const stats = await screenshot(page, scratch, name);
  assert.ok(stats.width > 300 && stats.height > 300, `${name}: ${stats.width}x${stats.height}`);
  assert.ok(stats.colors > 20 && stats.inked > 0.01, `${name} looks blank: ${JSON.stringify(stats)}`);
}

test("the fleet table lists the seeded hosts with their latest values, the stopped one marked stale", async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(dashboard.url);
  await page.locator("tbody tr").nth(3).waitFor();
  assert.deepEqual(await hostOrder(), ["alpha", "gpu2", "nosensor", "old"]);
  const expectRow = async (host: string, doc: Doc) => {
    assert.equal(await cell(host, "cpu").textContent(), percent(doc.cpu.usage_percent));
    assert.match((await cell(host, "ram").textContent()) ?? "", new RegExp(`^${percent(doc.memory.virtual.percent)} .* GiB / .* GiB$`));
  };
  for (const host of ["alpha", "gpu2", "nosensor", "old"] as const) await expectRow(host, seeded.hosts[host].latest);
  assert.equal(await cell("alpha", "temp").textContent(), celsius(61));
  assert.equal(await cell("nosensor", "temp").textContent(), "none");
  assert.equal(await cell("nosensor", "gpu").textContent(), "none");
  const gpus = (seeded.hosts.gpu2.latest.gpu ?? []).map((gpu) => `${gpu.index}: ${percent(gpu.utilization.gpu)} · ${percent(gpu.memory.percent)}`);
  assert.deepEqual(await cell("gpu2", "gpu").locator(".gpu").allTextContents(), gpus);
  assert.equal(await page.locator('tr[data-host="old"]').getAttribute("class"), "stale");
  assert.equal(await page.locator('tr[data-host="old"] .badge').textContent(), "stale");
  assert.match((await cell("old", "lastSeen").textContent()) ?? "", /^2 h ago$/);
  assert.equal(await page.locator('tr[data-host="alpha"] .badge').textContent(), "online");
  await assertNotBlank("fleet");
});

test("the fleet table sorts by a clicked column, both ways, and refreshes at the agents' interval", async () => {
  await page.locator('button[data-sort="cpu"]').click();
  assert.deepEqual(await hostOrder(), ["old", "nosensor", "alpha", "gpu2"], "CPU 5, 42, 69, 90.5 %");
  await page.locator('button[data-sort="cpu"]').click();
  assert.deepEqual(await hostOrder(), ["gpu2", "alpha", "nosensor", "old"]);
  await page.locator('button[data-sort="temp"]').click();
  assert.equal((await hostOrder()).at(-1), "nosensor", "no sensor sorts last");
  let fetches = 0;
  const count = (request: { url(): string }) => void (request.url().endsWith("/api/hosts") && (fetches += 1));
  page.on("request", count);
  await page.waitForTimeout(2600);
  page.off("request", count);
  assert.ok(fetches >= 2, `${fetches} refreshes in 2.6 s at a 1 s interval`);
  assert.deepEqual(await hostOrder(), ["alpha", "gpu2", "old", "nosensor"], "the chosen sort survives a refresh");
});

async function canvasInk(selector: string): Promise<number[]> {
  return page.locator(`${selector} canvas`).evaluateAll((canvases) =>
    canvases.map((canvas) => {
      const { data } = (canvas as HTMLCanvasElement).getContext("2d")?.getImageData(0, 0, (canvas as HTMLCanvasElement).width, (canvas as HTMLCanvasElement).height) ?? { data: [] };
      let inked = 0;
      for (let offset = 3; offset < data.length; offset += 4) if ((data[offset] ?? 0) > 0) inked += 1;
      return inked;
    }),
  );
}

test("a host's charts render with one line per core, sensor and GPU", async () => {
  await page.goto(`${dashboard.url}#/host/gpu2`);
  await page.locator('[data-chart="gpu-power"] canvas').waitFor();
  const cores = seeded.hosts.gpu2.latest.cpu.usage_per_core.length;
  const expected: Record<string, number> = { cpu: 1 + cores, "cpu-freq": 1, memory: 2, temperatures: 3, "gpu-util": 2, "gpu-vram": 2, "gpu-temp": 2, "gpu-power": 2 };
  const charts = await page.locator("[data-chart]").evaluateAll((sections) => sections.map((section) => [section.getAttribute("data-chart"), Number(section.getAttribute("data-series"))]));
  assert.deepEqual(Object.fromEntries(charts), expected);
  for (const id of Object.keys(expected)) {
    const ink = await canvasInk(`[data-chart="${id}"]`);
    assert.equal(ink.length, 1, id);
    assert.ok((ink[0] ?? 0) > 500, `${id} canvas is empty: ${ink}`);
    // uPlot's legend: one row for time plus one per series.
    assert.equal(await page.locator(`[data-chart="${id}"] .u-legend .u-series`).count(), expected[id] as number + 1, id);
  }
  assert.equal(await page.locator('[data-chart="memory"] h3').textContent(), `Memory (${(seeded.hosts.gpu2.latest.memory.virtual.total / 1024 ** 3).toFixed(1)} GiB) and swap (${((seeded.hosts.gpu2.latest.memory.swap.total) / 1024 ** 3).toFixed(seeded.hosts.gpu2.latest.memory.swap.total < 10 * 1024 ** 3 ? 2 : 1)} GiB)`);
  assert.equal(await page.locator(".summary").getAttribute("data-points"), "30");
  await assertNotBlank("host-gpu2");
});

test("opening a host is one request (its history with its latest document), and draws each chart once", async () => {
  // A page of its own, counting canvas clears (uPlot clears before each draw): the view must not redraw
  // its charts when nothing changed size, and the main script takes over the boot script's requests.
  const fresh = await browser.context.newPage();
  try {
    await fresh.setViewportSize({ width: 1280, height: 1600 });
    await fresh.addInitScript(() => {
      const clears: Record<string, number> = {};
      Object.assign(globalThis, { clears });
      const clearRect = CanvasRenderingContext2D.prototype.clearRect;
      CanvasRenderingContext2D.prototype.clearRect = function (this: CanvasRenderingContext2D, ...args: Parameters<typeof clearRect>) {
        const chart = this.canvas.closest("[data-chart]")?.getAttribute("data-chart") ?? "?";
        clears[chart] = (clears[chart] ?? 0) + 1;
        return clearRect.apply(this, args);
      };
    });
    const requests: string[] = [];
    fresh.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith("/api/")) requests.push(url.pathname);
    });
    await fresh.goto(`${dashboard.url}#/host/nosensor`);
    await fresh.locator('[data-chart="memory"] canvas').waitFor();
    await fresh.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.deepEqual(requests, ["/api/hosts/nosensor/history"]);
    const clears = await fresh.evaluate(() => (globalThis as unknown as { clears: Record<string, number> }).clears);
    assert.deepEqual(clears, { cpu: 1, "cpu-freq": 1, memory: 1 });
  } finally {
    await fresh.close();
  }
});

test("the page marks its first render once: after every chart is drawn, then the frame that shows them", async () => {
  // bench/dashboard.mjs reads these marks as the page's own time to first render.
  const fresh = await browser.context.newPage();
  try {
    await fresh.addInitScript(() => {
      const drawn: Record<string, number> = {};
      const atMarks: Record<string, Record<string, number>> = {};
      Object.assign(globalThis, { atMarks });
      const stroke = CanvasRenderingContext2D.prototype.stroke;
      CanvasRenderingContext2D.prototype.stroke = function (this: CanvasRenderingContext2D, ...args: [Path2D]) {
        const chart = this.canvas.closest("[data-chart]")?.getAttribute("data-chart") ?? "?";
        drawn[chart] = (drawn[chart] ?? 0) + 1;
        return stroke.apply(this, args);
      } as typeof stroke;
      const mark = performance.mark.bind(performance);
      performance.mark = (name, options) => ((atMarks[name] = { ...drawn }), mark(name, options));
    });
    await fresh.goto(`${dashboard.url}#/host/gpu2`);
    await fresh.waitForFunction(() => performance.getEntriesByName("resourcemonitor:frame").length > 0);
    const { marks, atMarks } = await fresh.evaluate(() => ({
      marks: performance.getEntriesByType("mark").map((entry) => [entry.name, entry.startTime] as const),
      atMarks: (globalThis as unknown as { atMarks: Record<string, Record<string, number>> }).atMarks,
    }));
    assert.deepEqual(marks.map(([name]) => name), ["resourcemonitor:drawn", "resourcemonitor:frame"]);
    assert.ok((marks[0]?.[1] ?? Infinity) <= (marks[1]?.[1] ?? -Infinity), JSON.stringify(marks));
    const charts = await fresh.locator("[data-chart]").evaluateAll((sections) => sections.map((section) => section.getAttribute("data-chart")));
    assert.deepEqual(Object.keys(atMarks["resourcemonitor:drawn"] ?? {}).sort(), [...charts].sort(), "every chart had drawn its lines at the first mark");
    await fresh.locator(".ranges [data-range='15m']").click();
    await fresh.locator(".ranges [data-range='15m'][aria-pressed='true']").waitFor();
    await fresh.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.equal(await fresh.evaluate(() => performance.getEntriesByType("mark").length), 2, "later views are not marked");
  } finally {
    await fresh.close();
  }
});

test("a host without sensors or GPUs says none instead of drawing empty charts", async () => {
  await page.goto(`${dashboard.url}#/host/nosensor`);
  await page.locator('[data-chart="memory"] canvas').waitFor();
  assert.deepEqual(await page.locator("p.none").allTextContents(), ["CPU temperature sensors: none", "GPUs: none"]);
  assert.equal(await page.locator('[data-chart^="gpu"], [data-chart="temperatures"]').count(), 0);
  await assertNotBlank("host-nosensor");
});

test("the range switch refetches the history for the new range", async () => {
  await page.goto(`${dashboard.url}#/host/alpha`);
  await page.locator('.summary[data-points="60"]').waitFor();
  assert.equal(await page.locator('button[data-range="1h"]').getAttribute("aria-pressed"), "true");
  const [request] = await Promise.all([page.waitForRequest((candidate) => candidate.url().includes("/api/hosts/alpha/history?range=6h")), page.locator('button[data-range="6h"]').click()]);
  assert.ok(request);
  await page.locator('.summary[data-points="61"]').waitFor();
  assert.equal(await page.locator('button[data-range="6h"]').getAttribute("aria-pressed"), "true");
  await page.locator('button[data-range="15m"]').click();
  await page.locator('.summary[data-points="60"]').waitFor();
  await assertNotBlank("host-alpha-15m");
});

test("a stale host's own view is marked stale", async () => {
  await page.goto(`${dashboard.url}#/host/old?range=6h`);
  await page.locator('[data-chart="cpu"] canvas').waitFor();
  assert.equal(await page.locator(".host-head .badge").textContent(), "stale");
  assert.match((await page.locator(".facts").textContent()) ?? "", /^last sample 2 h ago/);
});

test("dark and phone-sized: dark colours follow the system, nothing overflows the screen", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(dashboard.url);
  await page.locator("tbody tr").nth(3).waitFor();
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, "rgb(20, 23, 28)");
  await assertNotBlank("fleet-dark");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${dashboard.url}#/host/gpu2`);
  await page.locator('[data-chart="gpu-power"] canvas').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
  const plotWidth = await page.locator('[data-chart="cpu"] canvas').evaluate((canvas) => canvas.getBoundingClientRect().width);
  assert.ok(plotWidth > 250 && plotWidth <= 390, `chart ${plotWidth} px wide on a 390 px screen`);
  await assertNotBlank("host-gpu2-phone-dark");
  await page.emulateMedia({ colorScheme: "light" });
});

test("store errors show on the page with what to do, and go away when the store answers again", async () => {
  const { server, store } = await startS3();
  const s3Dashboard = await startDashboard({ store, port: 0, intervalSeconds: 1 });
  try {
    await page.goto(s3Dashboard.url);
    await page.locator("p.empty").waitFor();
    assert.match((await page.locator("p.empty").textContent()) ?? "", /^No host has written to s3:\/\/fleet-metrics yet\./);
    await server.setFault("error", { error: { status: 403, code: "AccessDenied", message: "Access Denied" } });
    await page.locator("#banner:not([hidden])").waitFor();
    assert.equal(await page.locator("#banner").getAttribute("data-code"), "access-denied");
    assert.match((await page.locator("#banner").textContent()) ?? "", /access denied: s3:ListBucket.*It needs s3:ListBucket on the bucket and s3:GetObject/);
    await assertNotBlank("error-access-denied");
    await server.setFault("none");
    await page.locator("#banner").waitFor({ state: "hidden" });
  } finally {
    await s3Dashboard.close();
    await server.close();
  }
});
