import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { historyKey, isoSecond, writeSample, type ObjectStore } from "@resourcemonitor/layout";
import { startDashboard, type Dashboard, type FleetResponse, type HistoryResponse, type HostSummary } from "../src/index.js";
import { seedFleet, type Doc, type Seeded } from "./seed.js";

/** Counts the reads a real store serves (a pass-through, not a stand-in). */
export function counting(store: ObjectStore): ObjectStore & { gets: number; lists: number } {
  const counted = {
    gets: 0,
    lists: 0,
    description: store.description,
    get: (key: string) => ((counted.gets += 1), store.get(key)),
    put: store.put.bind(store),
    list: (prefix: string, options?: { startAfter?: string }) => ((counted.lists += 1), store.list(prefix, options)),
  };
  return counted;
}

async function getJson<T>(dashboard: Dashboard, path: string): Promise<{ status: number; body: T; cache: string | null }> {
  const response = await fetch(new URL(path, dashboard.url));
  return { status: response.status, body: (await response.json()) as T, cache: response.headers.get("cache-control") };
}

function row(fleet: FleetResponse, host: string): HostSummary {
  const found = fleet.hosts.find((entry) => entry.host === host);
  assert.ok(found, `${host} in ${fleet.hosts.map((entry) => entry.host).join(", ")}`);
  return found;
}

const hottestOf = (doc: Doc) => Math.max(...doc.cpu.temperatures.map((entry) => entry.temperature ?? -Infinity));

/** The API tests, run against whatever store `open` seeds (a directory, the local S3 server). */
export function apiSuite(name: string, open: () => Promise<{ store: ObjectStore; close?: () => Promise<void> }>): void {
  let seeded: Seeded;
  let store: ReturnType<typeof counting>;
  let dashboard: Dashboard;
  let legacy: Dashboard;
  let close: (() => Promise<void>) | undefined;
  let raw: ObjectStore;

  before(async () => {
    const opened = await open();
    close = opened.close;
    raw = opened.store;
    seeded = await seedFleet(opened.store);
    store = counting(opened.store);
    dashboard = await startDashboard({ store, port: 0, intervalSeconds: 10 });
    legacy = await startDashboard({ store: opened.store, prefix: seeded.legacyPrefix, port: 0, intervalSeconds: 10 });
  });

  after(async () => {
    await dashboard?.close();
    await legacy?.close();
    await close?.();
  });

  test(`${name}: hosts lists every host with its latest values, sorted, the stopped one kept and stale`, async () => {
    const { status, body, cache } = await getJson<FleetResponse>(dashboard, "/api/hosts");
    assert.equal(status, 200);
    assert.equal(cache, "public, max-age=1");
    assert.deepEqual(body.hosts.map((entry) => entry.host), ["alpha", "gpu2", "nosensor", "old"]);
    assert.equal(body.list, "ok");
    assert.equal(body.intervalSeconds, 10);
    assert.equal(body.staleAfterSeconds, 30);
    const alpha = row(body, "alpha");
    const latest = seeded.hosts.alpha.latest;
    assert.equal(alpha.timestamp, latest.timestamp);
    assert.equal(alpha.cpuPercent, latest.cpu.usage_percent);
    assert.equal(alpha.coreCount, latest.cpu.usage_per_core.length);
    assert.equal(alpha.memoryPercent, latest.memory.virtual.percent);
    assert.equal(alpha.memoryTotalBytes, latest.memory.virtual.total);
    assert.equal(alpha.swapUsedBytes, latest.memory.swap.used);
    assert.deepEqual(alpha.hottestCpu, { sensor: "coretemp_Package id 0", celsius: hottestOf(latest) });
    assert.deepEqual(alpha.gpus, []);
    assert.equal(alpha.inList, true);
    assert.equal(alpha.stale, false);
    assert.ok(alpha.ageSeconds !== null && alpha.ageSeconds >= 5 && alpha.ageSeconds < 30, `age ${alpha.ageSeconds}`);
    const old = row(body, "old");
    assert.equal(old.stale, true);
    assert.equal(old.inList, false, "list.json forgot it after 5 minutes");
    assert.equal(old.lastSeen, seeded.hosts.old.latest.timestamp);
    assert.ok(old.ageSeconds !== null && old.ageSeconds >= 2 * 3600);
    assert.equal(old.cpuPercent, 5);
  });

  test(`${name}: a host with 2 GPUs reports both; a host without sensors has no hottest temperature`, async () => {
    const { body } = await getJson<FleetResponse>(dashboard, "/api/hosts");
    const gpu2 = row(body, "gpu2");
    const gpus = seeded.hosts.gpu2.latest.gpu ?? [];
    assert.deepEqual(
      gpu2.gpus.map((gpu) => [gpu.index, gpu.name, gpu.utilizationPercent, gpu.memoryPercent, gpu.memoryUsedBytes, gpu.temperatureCelsius, gpu.powerWatts]),
      gpus.map((gpu) => [gpu.index, gpu.name, gpu.utilization.gpu, gpu.memory.percent, gpu.memory.used, gpu.temperature, gpu.power_usage_watts]),
    );
    assert.equal(gpu2.cpuPercent, 90.5);
    const nosensor = row(body, "nosensor");
    assert.equal(nosensor.hottestCpu, null);
    assert.deepEqual(nosensor.gpus, []);
    assert.equal(nosensor.cpuPercent, 42);
  });

  test(`${name}: a legacy list.json (array of names) is read; a named host without documents is listed, stale, with the problem`, async () => {
    const { body } = await getJson<FleetResponse>(legacy, "/api/hosts");
    assert.equal(body.list, "legacy");
    assert.deepEqual(body.hosts.map((entry) => entry.host), ["alpha", "ghost"]);
    assert.equal(row(body, "alpha").cpuPercent, 33);
    assert.equal(row(body, "alpha").stale, false, "its latest document is fresh");
    const ghost = row(body, "ghost");
    assert.deepEqual([ghost.stale, ghost.lastSeen, ghost.problem, ghost.cpuPercent], [true, null, "no latest document", null]);
  });

  test(`${name}: latest is the host's document as stored; unknown hosts 404, invalid names 400`, async () => {
    const response = await fetch(new URL("/api/hosts/gpu2/latest", dashboard.url));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), seeded.hosts.gpu2.latest);
    assert.equal((await getJson(dashboard, "/api/hosts/nobody/latest")).status, 404);
    const bad = await getJson<{ error: { code: string; message: string } }>(dashboard, "/api/hosts/..%2Fetc/latest");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /contains '\/'/);
  });

  test(`${name}: history of the last hour holds exactly the hour's samples as columns`, async () => {
    const { status, body, cache } = await getJson<HistoryResponse>(dashboard, "/api/hosts/alpha/history?range=1h");
    assert.equal(status, 200);
    assert.equal(cache, "public, max-age=1", "an open range can still grow");
    const docs = seeded.hosts.alpha.documents.slice(1); // the first sample is 3 h old
    assert.equal(body.listed, 60);
    assert.equal(body.stepSeconds, 0);
    assert.deepEqual(body.time, docs.map((doc) => Date.parse(doc.timestamp) / 1000));
    assert.deepEqual(body.cpu?.total, docs.map((doc) => doc.cpu.usage_percent));
    assert.equal(body.cpu?.cores.length, docs[0]?.cpu.usage_per_core.length);
    assert.deepEqual(body.cpu?.cores[0], docs.map((doc) => doc.cpu.usage_per_core[0]));
    assert.deepEqual(body.memory?.usedBytes, docs.map((doc) => doc.memory.virtual.used));
    assert.deepEqual(body.temperatures?.sensors, ["coretemp_Package id 0", "coretemp_Core 0", "coretemp_Core 1"]);
    assert.deepEqual(body.gpus, []);
    const sixHours = await getJson<HistoryResponse>(dashboard, "/api/hosts/alpha/history?range=6h");
    assert.equal(sixHours.body.time.length, 61, "6 h reaches the sample of 3 h ago");
  });

  test(`${name}: history sections a host lacks are absent (none), and 2 GPUs give 2 series`, async () => {
    const nosensor = (await getJson<HistoryResponse>(dashboard, "/api/hosts/nosensor/history?range=15m")).body;
    assert.equal(nosensor.time.length, 10);
    assert.equal(nosensor.temperatures, null);
    assert.deepEqual(nosensor.gpus, []);
    const gpu2 = (await getJson<HistoryResponse>(dashboard, "/api/hosts/gpu2/history?range=15m")).body;
    assert.equal(gpu2.time.length, 30);
    assert.deepEqual(gpu2.gpus.map((gpu) => [gpu.index, gpu.name, gpu.memoryTotalBytes]), [
      [0, "NVIDIA GeForce RTX 4090", 24 * 1024 ** 3],
      [1, "NVIDIA A100-PCIE-40GB", 40 * 1024 ** 3],
    ]);
    assert.deepEqual(gpu2.gpus[0]?.powerWatts, seeded.hosts.gpu2.documents.map((doc) => doc.gpu?.[0]?.power_usage_watts));
  });

  test(`${name}: a closed range is immutable, starts its listing at the range, and is served from the cache the second time`, async () => {
    const docs = seeded.hosts.alpha.documents;
    const from = docs[10]?.timestamp as string;
    const to = docs[20]?.timestamp as string;
    const path = `/api/hosts/alpha/history?from=${from}&to=${to}`;
    const gets = store.gets;
    const first = await getJson<HistoryResponse>(dashboard, path);
    // Closed only once its end is 15 minutes old; this one ends within the last 10 minutes.
    assert.equal(first.cache, "public, max-age=1");
    assert.deepEqual(first.body.time, docs.slice(10, 21).map((doc) => Date.parse(doc.timestamp) / 1000));
    assert.ok(store.gets - gets <= 11, `${store.gets - gets} reads`);
    const cached = store.gets;
    const second = await getJson<HistoryResponse>(dashboard, path);
    assert.deepEqual(second.body, first.body);
    assert.equal(store.gets, cached, "history objects never change: no store read the second time");
    const oldRange = await getJson<HistoryResponse>(dashboard, `/api/hosts/old/history?from=${seeded.hosts.old.documents[0]?.timestamp}&to=${seeded.hosts.old.latest.timestamp}`);
    assert.equal(oldRange.cache, "public, max-age=31536000, immutable");
    assert.equal(oldRange.body.time.length, 5);
  });

  test(`${name}: latest=1 adds the host's latest document to its history (the page's host view is one request)`, async () => {
    const { status, body, cache } = await getJson<HistoryResponse>(dashboard, "/api/hosts/gpu2/history?range=15m&latest=1");
    assert.equal(status, 200);
    assert.equal(cache, "public, max-age=1");
    assert.deepEqual(body.latest, seeded.hosts.gpu2.latest);
    assert.equal(body.time.length, 30);
    const without = await getJson<HistoryResponse>(dashboard, "/api/hosts/gpu2/history?range=15m");
    assert.equal("latest" in without.body, false);
    // A closed range stays immutable alone, not with the latest document, which changes.
    const old = seeded.hosts.old.documents;
    const closed = await getJson<HistoryResponse>(dashboard, `/api/hosts/old/history?from=${old[0]?.timestamp}&to=${old.at(-1)?.timestamp}&latest=1`);
    assert.equal(closed.cache, "public, max-age=1");
    assert.deepEqual(closed.body.latest, seeded.hosts.old.latest);
    const ghost = await getJson<HistoryResponse>(legacy, "/api/hosts/ghost/history?range=1h&latest=1");
    assert.equal(ghost.status, 200);
    assert.equal(ghost.body.latest, null, "no latest document");
    assert.equal((await getJson(dashboard, "/api/hosts/gpu2/history?range=15m&latest=yes")).status, 400);
  });

  test(`${name}: bad ranges are refused with what to give instead`, async () => {
    for (const query of ["range=2h", "", "from=yesterday", "from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z"]) {
      const { status, body } = await getJson<{ error: { code: string; hint: string } }>(dashboard, `/api/hosts/alpha/history?${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.error.code, "bad-request");
    }
  });

  test(`${name}: the server is read-only and answers only to this machine's names`, async () => {
    const post = await fetch(new URL("/api/hosts", dashboard.url), { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    // fetch may not set Host; node:http may.
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      request(new URL("/api/hosts", dashboard.url), { headers: { host: "evil.example" } }, (response) => (response.resume(), resolve(response.statusCode))).on("error", reject).end(),
    );
    assert.equal(rebound, 403);
    assert.match(new URL(dashboard.url).hostname, /^127\.0\.0\.1$/);
  });

  test(`${name}: JSON answers of 8 KiB or more are gzipped for a client that accepts it, and are the same answer`, async () => {
    const fetchRaw = (path: string, encoding: string) =>
      new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) =>
        request(new URL(path, dashboard.url), { headers: { "accept-encoding": encoding } }, (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
        }).on("error", reject).end(),
      );
    // A host with 300 samples in the last hour (its history only: the fleet does not list it), ~30 KB as JSON.
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (let index = 0; index < 300; index += 1) {
      const time = new Date(now - 3000_000 + index * 10_000);
      const document = { ...seeded.hosts.alpha.latest, hostname: "wide", timestamp: isoSecond(time) };
      await raw.put(historyKey("wide", time), JSON.stringify(document), { contentType: "application/json" });
    }
    const encodings: string[] = [];
    for (const path of ["/api/hosts/wide/history?range=1h", "/api/hosts/alpha/history?range=1h", "/api/hosts/gpu2/history?range=1h&latest=1", "/api/hosts", "/api/hosts/alpha/latest", "/api/hosts/nobody/latest"]) {
      const plain = await fetchRaw(path, "identity");
      const gzipped = await fetchRaw(path, "gzip, deflate, br");
      assert.equal(plain.headers["content-encoding"], undefined, path);
      assert.equal(gzipped.headers.vary, "Accept-Encoding", path);
      assert.equal(Number(gzipped.headers["content-length"]), gzipped.body.length, path);
      const compressed = gzipped.headers["content-encoding"] === "gzip";
      assert.equal(compressed, plain.body.length >= 8192, `${path}: ${plain.body.length} bytes`);
      const body = compressed ? gunzipSync(gzipped.body) : gzipped.body;
      // The same answer but for when it was made: the range ending now, and each host's age (the two requests may
      // fall on either side of a second).
      const timeBound = new Set(["generatedAt", "from", "to", "ageSeconds"]);
      const same = (text: Buffer) => JSON.stringify(JSON.parse(text.toString(), (key, value: unknown) => (timeBound.has(key) ? null : value)));
      assert.equal(same(body), same(plain.body), path);
      encodings.push(compressed ? "gzip" : "plain");
    }
    assert.ok(encodings.includes("gzip") && encodings.includes("plain"), encodings.join());
  });

  test(`${name}: points=N thins a range to one sample per step, aligned to the clock`, async () => {
    const { body } = await getJson<HistoryResponse>(dashboard, "/api/hosts/alpha/history?range=15m&points=10");
    assert.equal(body.listed, 60);
    assert.equal(body.stepSeconds, 90);
    assert.ok(body.time.length >= 6 && body.time.length <= 11, `${body.time.length} points`);
    const buckets = body.time.map((time) => Math.floor(time / 90));
    assert.deepEqual(buckets, [...new Set(buckets)], "one sample per 90 s bucket");
    assert.equal((await getJson(dashboard, "/api/hosts/alpha/history?range=15m&points=1")).status, 400);
  });

  test(`${name}: a refresh lists only the keys after the newest one it knows, and shows a new sample`, async () => {
    const first = await getJson<HistoryResponse>(dashboard, "/api/hosts/nosensor/history?range=1h");
    assert.equal(first.body.time.length, 10);
    const document = { ...seeded.hosts.nosensor.latest, timestamp: isoSecond(new Date()) };
    await writeSample(raw, document, JSON.stringify(document));
    const [lists, gets] = [store.lists, store.gets];
    const second = await getJson<HistoryResponse>(dashboard, "/api/hosts/nosensor/history?range=1h");
    assert.equal(second.body.time.length, 11);
    assert.equal(second.body.time.at(-1), Date.parse(document.timestamp) / 1000);
    assert.deepEqual([store.lists - lists, store.gets - gets], [1, 1], "one listing after the known keys, one read of the new sample");
  });
}
