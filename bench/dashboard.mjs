// Dashboard speed against the local S3 server: time to first render of the fleet table for 1000 hosts, and of
// one host's 1 h history at 1 s (3600 samples), cold (fresh dashboard process) and warm, with the store
// requests each takes. The dashboard is the real `resourcemonitor dashboard` process; the page is rendered
// by Debian's headless Chromium (playwright-core). Needs `npm run build` and /usr/bin/chromium.
// The 1 h history is measured as a laptop page asks for it (one sample per pixel: 1200 of the 3600) and at
// full resolution (a 3600 px wide page: all 3600). S3 "GET" counts include ListObjectsV2 (also a GET).
// The history host's hour is seeded up to now, and a writer adds its sample every second during the runs, as its
// agent at 1 s would (its PUTs are counted apart from the dashboard's GETs).
// The S3 server runs in a process of its own, as a real endpoint would: in this process it would share an event
// loop with the Playwright driver, whose work during a navigation delayed its answers by tens of milliseconds.
// Usage: node bench/dashboard.mjs [--hosts 1000] [--runs 3] [--json FILE]
import { execFile, fork, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clearInterval, clearTimeout, setInterval, setTimeout } from "node:timers";
import { parseArgs, promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startS3Server } from "../packages/s3-test-server/dist/src/index.js";
import { createS3Client, createS3Store, resolveOptions } from "../packages/sink-s3/dist/src/index.js";
import { historyKey, isoSecond, latestKey, listKey } from "../packages/layout/dist/src/index.js";

/** Child mode: the S3 test server, driven over IPC (counts, resetCounts, close). */
async function serveS3() {
  const server = await startS3Server({ buckets: [process.argv[3]], recordRequests: false });
  process.on("message", async ({ id, call }) => {
    const result = call === "counts" ? server.counts() : call === "resetCounts" ? server.resetCounts() : await server.close();
    process.send({ id, result });
    if (call === "close") process.disconnect();
  });
  process.send({ endpoint: server.endpoint });
}

/** The S3 server in its own process, with the same methods as in-process (each a promise). */
async function startS3Process(bucket) {
  const child = fork(fileURLToPath(import.meta.url), ["--s3-server", bucket], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { endpoint } = await new Promise((resolve) => child.once("message", resolve));
  let calls = 0;
  const call = (name) => new Promise((resolve) => {
    const id = (calls += 1);
    const answer = (message) => {
      if (message.id !== id) return;
      child.off("message", answer);
      resolve(message.result);
    };
    child.on("message", answer);
    child.send({ id, call: name });
  });
  return { endpoint, counts: () => call("counts"), resetCounts: () => call("resetCounts"), close: () => call("close") };
}

if (process.argv[2] === "--s3-server") {
  await serveS3();
} else {
  await main();
}

async function main() {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const BIN = join(root, "packages/agent/bin/resourcemonitor.js");
  const { values } = parseArgs({ options: { hosts: { type: "string", default: "1000" }, runs: { type: "string", default: "3" }, json: { type: "string" } } });
  const HOSTS = Number(values.hosts);
  const RUNS = Number(values.runs);
  const BUCKET = "bench-fleet";
  const HISTORY_HOST = "host-0000";
  const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

  async function agentDocument() {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "once", "--hostname", "seed", "--log-level", "warn"], {
      env: { ...process.env, RESOURCEMONITOR_ENV_FILE: "/nonexistent" },
    });
    return JSON.parse(stdout);
  }

  async function parallel(items, limit, work) {
    let next = 0;
    await Promise.all(Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }));
  }

  const doc = (base, host, time, step) => JSON.stringify({ ...base, hostname: host, timestamp: isoSecond(new Date(time)), cpu: { ...base.cpu, usage_percent: (step * 7) % 100 } });

  /** The fleet's latest documents and list.json, and the history host's last hour up to now; returns the newest sample's time. */
  async function seed(store, base) {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const hosts = Array.from({ length: HOSTS }, (_, index) => `host-${String(index).padStart(4, "0")}`);
    await parallel(hosts, 32, (host) => store.put(latestKey(host), doc(base, host, now, hosts.indexOf(host)), { contentType: "application/json" }));
    await store.put(listKey(), JSON.stringify(Object.fromEntries(hosts.map((host) => [host, isoSecond(new Date(now))]))), { contentType: "application/json" });
    const times = Array.from({ length: 3601 }, (_, index) => now - 3600_000 + index * 1000);
    await parallel(times, 32, (time) => store.put(historyKey(HISTORY_HOST, new Date(time)), doc(base, HISTORY_HOST, time, time / 1000), { contentType: "application/json" }));
    return now;
  }

  /**
   * The history host's agent at 1 s, as it writes: from the seeded hour on, each second's sample (history
   * key, then `<host>.json`) shortly after the second starts, catching up on any second it missed. So the
   * last hour always holds its 3600 samples (the newest second's for a few ms after it starts), and the store
   * holds nothing past now, as a real one does.
   */
  function startWriter(store, base, newest) {
    let stopped = false;
    let timer;
    let written = 0;
    const write = async () => {
      try {
        for (const now = Math.floor(Date.now() / 1000) * 1000; newest < now; written += 1) {
          newest += 1000;
          await store.put(historyKey(HISTORY_HOST, new Date(newest)), doc(base, HISTORY_HOST, newest, newest / 1000), { contentType: "application/json" });
        }
        await store.put(latestKey(HISTORY_HOST), doc(base, HISTORY_HOST, newest, newest / 1000), { contentType: "application/json" });
      } catch (error) {
        console.error(`writer: ${error.message}`);
      }
      if (!stopped) timer = setTimeout(write, 1000 - (Date.now() % 1000));
    };
    void write();
    return { written: () => written, stop: () => ((stopped = true), clearTimeout(timer)) };
  }

  function startDashboard(env) {
    // The bin itself, as people run it (its shebang adds --no-opt; the command relaunches without it).
    const child = spawn(BIN, ["dashboard", "--bucket", BUCKET, "--port", "0", "--interval", "60"], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(stderr)?.[1];
        if (url) resolve({ url, stop: () => new Promise((done) => (child.on("close", done), child.kill("SIGTERM"))) });
        if (url || child.exitCode !== null) clearInterval(timer);
        if (child.exitCode !== null && !url) reject(new Error(stderr));
      }, 20);
    });
  }

  /** Milliseconds from navigation until `ready` holds in the page, and the store requests made meanwhile. */
  async function timed(server, page, navigate, [ready, argument]) {
    await server.resetCounts();
    const start = performance.now();
    await navigate();
    await page.waitForFunction(ready, argument, { polling: "raf", timeout: 60_000 });
    const ms = performance.now() - start;
    return { ms, ...(await pageTimings(page)), requests: (await server.counts()).byMethod };
  }

  /**
   * The same for a load that Playwright does not poll: the driver only waits for the page's own frame mark,
   * passed on by a PerformanceObserver (observeFrames) through a binding, and runs nothing in the page
   * until then. Polling costs the page's main thread Playwright's injected script (compiled for each new
   * document, 7-24 ms, typically while the answer arrives) and its checks each frame: no browser of a user
   * does that, so this load's own clock is the page's first render as people get it.
   */
  async function timedUnpolled(server, page, navigate) {
    await server.resetCounts();
    const framed = new Promise((resolve) => (onFrame = resolve));
    const start = performance.now();
    await navigate();
    await framed;
    const ms = performance.now() - start;
    return { ms, ...(await pageTimings(page)), requests: (await server.counts()).byMethod };
  }

  /** The page's frame mark, passed on as soon as it is set (see timedUnpolled). */
  let onFrame = () => undefined;
  async function observeFrames(page) {
    await page.exposeBinding("resourcemonitorBenchFrame", () => onFrame());
    await page.addInitScript(() =>
      new globalThis.PerformanceObserver((list) => {
        if (list.getEntries().some((entry) => entry.name === "resourcemonitor:frame")) globalThis.resourcemonitorBenchFrame();
      }).observe({ type: "mark" }),
    );
  }

  /**
   * The page's own clock (from its navigation's start): its first render marked by the page itself, once its
   * content is in and its charts drawn ("drawn"), and once the frame showing them is produced ("frame");
   * the API answers' ends (resource timing), and the samples the view shows.
   */
  async function pageTimings(page) {
    const own = await page.evaluate(async () => {
      const { performance: clock } = globalThis;
      const at = (name) => clock.getEntriesByName(name)[0]?.startTime;
      for (let waited = 0; at("resourcemonitor:frame") === undefined && waited < 5000; waited += 10) await new Promise((resolve) => globalThis.setTimeout(resolve, 10));
      const apiEnds = Object.fromEntries(clock.getEntriesByType("resource").filter((entry) => entry.name.includes("/api/")).map((entry) => [new URL(entry.name).pathname.split("/").pop(), Math.round(entry.responseEnd)]));
      const points = globalThis.document.querySelector(".summary")?.getAttribute("data-points");
      return { drawnMs: at("resourcemonitor:drawn"), frameMs: at("resourcemonitor:frame"), apiEnds, points: points ? Number(points) : undefined };
    });
    return { pageMs: own.frameMs, drawnMs: own.drawnMs, points: own.points, apiEnds: own.apiEnds };
  }

  async function apiMs(url) {
    const start = performance.now();
    const response = await globalThis.fetch(url);
    const body = await response.json();
    return { ms: performance.now() - start, points: body.time?.length ?? body.hosts?.length };
  }

  const server = await startS3Process(BUCKET);
  const env = {
    ...process.env,
    RESOURCEMONITOR_ENV_FILE: "/nonexistent",
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "bench-secret",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_S3: server.endpoint,
    S3_FORCE_PATH_STYLE: "true",
  };
  Object.assign(process.env, env); // the SDK's credential chain reads the process environment
  const store = createS3Store(createS3Client(resolveOptions({ bucket: BUCKET }, env)), { bucket: BUCKET });
  const seedStart = performance.now();
  const base = await agentDocument();
  const writer = startWriter(store, base, await seed(store, base));
  console.error(`seeded ${HOSTS} hosts and 3601 history objects in ${((performance.now() - seedStart) / 1000).toFixed(1)} s; the history host's writer runs at 1 s`);

  const profile = await mkdtemp(join(tmpdir(), "rm-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args: FLAGS });
  const page = await context.newPage();
  await observeFrames(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  const runs = [];
  // Page-side conditions (run in Chromium; the page's CSP forbids string evaluation). The history view is ready
  // with all but at most the newest of its samples: the agent writes a second's sample just after it starts.
  const fleetReady = [(count) => globalThis.document.querySelectorAll("tbody tr").length === count, HOSTS];
  const historyReady = (points) => [
    (least) => Number(globalThis.document.querySelector(".summary")?.getAttribute("data-points") ?? 0) >= least && globalThis.document.querySelector('[data-chart="cpu"] canvas') !== null,
    points - 1,
  ];

  /**
   * One dashboard process as people use it: started (it reads the fleet once at start-up), the fleet table
   * opened, reopened, then one host's 1 h chart opened for the first time (its history cache empty) and again.
   * The page asks for one sample per pixel of its width: 1280 px gets 1200 of the 3600 samples, 3600 px all.
   */
  async function session(width, points) {
    const spawned = performance.now();
    const dashboard = await startDashboard(env);
    const startupMs = performance.now() - spawned;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto("about:blank");
    const fleetFirst = await timed(server, page, () => page.goto(dashboard.url), fleetReady);
    const fleetAgain = await timed(server, page, () => page.reload(), fleetReady);
    const apiFleet = [];
    for (let index = 0; index < 3; index += 1) apiFleet.push((await apiMs(`${dashboard.url}api/hosts`)).ms);
    const hostUrl = `${dashboard.url}#/host/${HISTORY_HOST}?range=1h`;
    await page.setViewportSize({ width, height: 900 });
    await page.goto("about:blank");
    const historyCold = await timed(server, page, () => page.goto(hostUrl), historyReady(points));
    await page.goto("about:blank");
    await page.waitForTimeout(1100); // past the answers' max-age=1: the warm figure is the server's cache, not the browser's
    const historyWarm = await timed(server, page, () => page.goto(hostUrl), historyReady(points));
    await page.goto("about:blank");
    await page.waitForTimeout(1100);
    const historyWarmUnpolled = await timedUnpolled(server, page, () => page.goto(hostUrl));
    const apiWarm = [];
    for (let index = 0; index < 5; index += 1) apiWarm.push((await apiMs(`${dashboard.url}api/hosts/${HISTORY_HOST}/history?range=1h&points=${points}`)).ms);
    await dashboard.stop();
    return { startupMs, fleetFirst, fleetAgain, apiFleetMs: median(apiFleet), historyCold, historyWarm, historyWarmUnpolled, apiWarmMs: median(apiWarm) };
  }

  const load = () => readFile("/proc/loadavg", "utf8").then((text) => Number(text.split(" ")[0]));
  try {
    for (let run = 0; run < RUNS; run += 1) {
      const laptop = await session(1280, 1200);
      const full = await session(3600, 3600);
      runs.push({ loadAverage: await load(), laptop, full });
      console.error(`run ${run + 1}: ${JSON.stringify(runs.at(-1))}`);
    }
  } finally {
    writer.stop();
    await context.close();
    await rm(profile, { recursive: true, force: true });
    await server.close();
  }

  const pick = (read) => Math.round(median(runs.map(read)));
  const summary = (name) => ({
    startup: pick((entry) => entry[name].startupMs),
    fleetFirstRender: pick((entry) => entry[name].fleetFirst.ms),
    fleetReopen: pick((entry) => entry[name].fleetAgain.ms),
    fleetApi: pick((entry) => entry[name].apiFleetMs),
    history1hColdCache: pick((entry) => entry[name].historyCold.ms),
    history1hWarmCache: pick((entry) => entry[name].historyWarm.ms),
    history1hApiWarm: pick((entry) => entry[name].apiWarmMs),
    // The page's own clock: navigation start to the frame after its charts are drawn.
    pageFleetFirstRender: pick((entry) => entry[name].fleetFirst.pageMs),
    pageHistory1hColdCache: pick((entry) => entry[name].historyCold.pageMs),
    pageHistory1hWarmCache: pick((entry) => entry[name].historyWarm.pageMs),
    history1hWarmRunsUnder100: `${runs.filter((entry) => entry[name].historyWarm.ms < 100).length} of ${runs.length}`,
    pageHistory1hWarmRunsUnder100: `${runs.filter((entry) => entry[name].historyWarm.pageMs < 100).length} of ${runs.length}`,
    // A warm load that Playwright does not poll (timedUnpolled): the page's own clock, and the driver's.
    pageHistory1hWarmUnpolled: pick((entry) => entry[name].historyWarmUnpolled.pageMs),
    pageHistory1hWarmUnpolledRunsUnder100: `${runs.filter((entry) => entry[name].historyWarmUnpolled.pageMs < 100).length} of ${runs.length}`,
    history1hWarmUnpolledDriver: pick((entry) => entry[name].historyWarmUnpolled.ms),
  });
  const result = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, kernel: release(), node: process.version, chromium: (await promisify(execFile)("/usr/bin/chromium", ["--version"])).stdout.trim() },
    hosts: HOSTS,
    runs: RUNS,
    historyWrittenDuringRuns: writer.written(),
    loadAverages: runs.map((entry) => entry.loadAverage),
    medianMs: { laptop1200: summary("laptop"), full3600: summary("full") },
    requests: {
      fleet: runs[0].laptop.fleetFirst.requests,
      history1hLaptopCold: runs[0].laptop.historyCold.requests,
      history1hLaptopWarm: runs[0].laptop.historyWarm.requests,
      history1hFullCold: runs[0].full.historyCold.requests,
      history1hFullWarm: runs[0].full.historyWarm.requests,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (values.json) await writeFile(values.json, `${JSON.stringify({ result, runs }, null, 2)}\n`);
}
