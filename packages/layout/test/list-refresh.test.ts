// createSampleWriter's list.json upkeep: the first listing in the upload, then refreshes in the background on a
// jittered period, and list.json conflicts that never fail a stored sample. Time is a manual clock and timer
// queue, so these tests wait for nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSampleWriter, HostListConflictError, readHostList, updateHostList, type RefreshTimers, type SampleWriterOptions } from "../src/index.js";
import { MemoryStore } from "../src/testing.js";

const BASE = Date.UTC(2025, 7, 5, 14, 30, 0);

/** Timers on a manual clock: `advance` fires what comes due, in order, and lets each refresh finish. */
class ManualTimers implements RefreshTimers {
  elapsed = 0;
  private next = 0;
  private queue: { at: number; id: number; callback: () => void }[] = [];

  setTimeout(callback: () => void, ms: number): number {
    this.next += 1;
    this.queue.push({ at: this.elapsed + ms, id: this.next, callback });
    return this.next;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((entry) => entry.id !== handle);
  }

  /** Runs the earliest timer now, without waiting for what it starts. */
  fireNext(): void {
    const due = [...this.queue].sort((a, b) => a.at - b.at || a.id - b.id)[0];
    assert.ok(due, "a timer is pending");
    this.queue = this.queue.filter((entry) => entry !== due);
    this.elapsed = due.at;
    due.callback();
  }

  pending(): number[] {
    return this.queue.map((entry) => entry.at).sort((a, b) => a - b);
  }

  /** Advances the clock by `ms`, firing every timer due on the way; `settle` waits for what a timer started. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const until = this.elapsed + ms;
    for (;;) {
      const due = this.queue.filter((entry) => entry.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.queue = this.queue.filter((entry) => entry !== due);
      this.elapsed = due.at;
      due.callback();
      await settle();
    }
    this.elapsed = until;
  }
}

/** A store where, while `rivals` is on, another host rewrites list.json between each of our reads and writes. */
function contendedStore(): { store: MemoryStore; rivals: { on: boolean; writes: number } } {
  const store = new MemoryStore();
  const get = store.get.bind(store);
  const rivals = { on: false, writes: 0 };
  const inner = { description: "rival", get, put: store.put.bind(store), list: store.list.bind(store) };
  store.get = async (key) => {
    const current = await get(key);
    if (key === "list.json" && rivals.on) {
      rivals.writes += 1;
      await updateHostList(inner, "rival", new Date(BASE + rivals.writes * 1000));
    }
    return current;
  };
  return { store, rivals };
}

interface Logged {
  level: string;
  message: string;
}

function harness(store: MemoryStore, options: SampleWriterOptions = {}) {
  const timers = new ManualTimers();
  const logged: Logged[] = [];
  const logger = {
    warn: (_fields: object, message: string) => logged.push({ level: "warn", message }),
    info: (message: string) => logged.push({ level: "info", message }),
    debug: (_fields: object, message: string) => logged.push({ level: "debug", message }),
  };
  const clock = () => BASE + timers.elapsed;
  const writer = createSampleWriter(store, { timers, clock, random: () => 0.5, logger, baseDelayMs: 0, maxDelayMs: 0, ...options });
  const upload = (host = "server01") => {
    const now = new Date(clock());
    return writer.write({ timestamp: now.toISOString().replace(/\.\d+Z$/, "Z"), hostname: host }, JSON.stringify({ at: now }), now);
  };
  const advance = (ms: number) => timers.advance(ms, () => writer.idle());
  return { writer, timers, logged, upload, advance };
}

async function entryOf(store: MemoryStore, host = "server01"): Promise<string | undefined> {
  const text = (await store.get("list.json"))?.body;
  const time = text === undefined ? undefined : readHostList(text)?.hosts.get(host);
  return time === undefined ? undefined : new Date(time).toISOString();
}

const iso = (elapsedMs: number) => new Date(BASE + elapsedMs).toISOString();

test("listRefreshMs: listed in the first upload, then refreshed in the background in the period's last quarter with the latest upload's time", async () => {
  const store = new MemoryStore();
  const { upload, advance, timers } = harness(store, { listRefreshMs: 120_000, logger: undefined });
  assert.ok((await upload()).hostList, "first upload lists the host");
  assert.equal(await entryOf(store), iso(0));
  // random 0.5 of a 30 s jitter: the refresh is due 105 s after the entry's time
  assert.deepEqual(timers.pending(), [105_000]);
  const putsAfterFirst = store.calls.put;
  for (let second = 1; second <= 104; second += 1) {
    await advance(1000);
    assert.equal((await upload()).hostList, undefined, `no list.json write at second ${second}`);
  }
  assert.equal(store.calls.put, putsAfterFirst + 104 * 2, "uploads between refreshes write history and <host>.json only");
  await advance(1000);
  assert.equal(await entryOf(store), iso(104_000), "refreshed with the time of the latest upload");
  assert.deepEqual(timers.pending(), [105_000 + 105_000], "the next refresh counts from this one");
  const reported = await upload();
  assert.ok(reported.hostList?.written, "the background update is reported with the next upload");
  assert.equal((await upload()).hostList, undefined, "and only once");
});

test("listRefreshMs: list.json writes per minute follow the period, not the number of uploads", async () => {
  const store = new MemoryStore();
  const { upload, advance } = harness(store, { listRefreshMs: 60_000, listJitterMs: 0 });
  let listPuts = 0;
  const put = store.put.bind(store);
  store.put = (key, body, options) => ((listPuts += key === "list.json" ? 1 : 0), put(key, body, options));
  for (let second = 0; second < 600; second += 1) {
    if (second > 0) await advance(1000);
    await upload();
  }
  assert.equal(listPuts, 10, "one listing and nine refreshes in ten minutes of 1 s uploads (600 uploads)");
});

test("an entry written with an upload time older than the refresh is refreshed before the expiry, whatever the period", async () => {
  const store = new MemoryStore();
  const { upload, advance, timers } = harness(store, { listRefreshMs: 240_000, listJitterMs: 0 });
  await upload();
  await advance(239_000);
  await upload(); // uploads at a 239 s interval: the refresh at 240 s writes an entry 1 s old
  await advance(1000);
  assert.equal(await entryOf(store), iso(239_000));
  assert.deepEqual(timers.pending(), [239_000 + 240_000], "the expiry (less a minute) from the entry's time, not a period after the refresh");
});

test("a refresh period longer than the expiry allows is held a minute below it", async () => {
  const store = new MemoryStore();
  const { upload, timers } = harness(store, { listRefreshMs: 600_000, listJitterMs: 0 });
  await upload();
  assert.deepEqual(timers.pending(), [240_000]);
});

test("a host whose fresh entry is already in list.json (a restart) leaves it; its refresh comes a period later", async () => {
  const store = new MemoryStore();
  await store.put("list.json", JSON.stringify({ server01: new Date(BASE - 20_000).toISOString().replace(".000Z", "Z") }));
  const { upload, timers } = harness(store, { listRefreshMs: 120_000 });
  const first = await upload();
  assert.equal(first.hostList?.written, false);
  assert.deepEqual(store.calls, { get: 1, put: 1 + 2 }, "set-up, history, <host>.json: no list.json write");
  assert.equal(await entryOf(store), iso(-20_000), "entry unchanged");
  assert.deepEqual(timers.pending(), [105_000]);
});

test("an entry older than half the period is rewritten at the first upload after a restart", async () => {
  const store = new MemoryStore();
  await store.put("list.json", JSON.stringify({ server01: new Date(BASE - 61_000).toISOString().replace(".000Z", "Z") }));
  const { upload } = harness(store, { listRefreshMs: 120_000 });
  assert.equal((await upload()).hostList?.written, true);
  assert.equal(await entryOf(store), iso(0));
});

test("a sample whose first listing lost every race is stored, not failed; the listing is retried in the background, not in lockstep with the next upload", async () => {
  const { store, rivals } = contendedStore();
  const { upload, advance, timers, logged } = harness(store, { listRefreshMs: 120_000, maxAttempts: 3 });
  rivals.on = true;
  const lost = await upload();
  assert.ok(lost.listError instanceof HostListConflictError);
  assert.equal(lost.hostList, undefined);
  assert.ok(await store.get(lost.historyKey), "history stored");
  assert.ok(await store.get(lost.latestKey), "<host>.json stored");
  assert.equal(await entryOf(store), undefined);
  // the pause: 1 s + random 0.5 × 15 s (the jitter, 30 s, held to 15 s)
  assert.deepEqual(timers.pending(), [8_500]);
  await advance(1000);
  const rivalWrites = rivals.writes;
  const next = await upload();
  assert.equal(next.listError, undefined);
  assert.equal(rivals.writes, rivalWrites, "the upload left list.json alone: the retry is scheduled");
  await advance(7_500);
  assert.equal(await entryOf(store), undefined, "the retry lost too");
  assert.deepEqual(timers.pending(), [17_000]);
  assert.deepEqual(logged.map((line) => line.level), ["warn", "debug"], "warned once for the change, not per attempt");
  rivals.on = false;
  await advance(8_500);
  assert.equal(await entryOf(store), iso(1000), "listed with the latest upload's time");
  assert.deepEqual(JSON.parse((await store.get("list.json"))?.body ?? "{}").rival !== undefined, true, "the rival's entry kept");
  assert.equal(logged.at(-1)?.level, "info");
  assert.match(logged.at(-1)?.message ?? "", /lists server01 again, after 2 failed attempt/);
  assert.deepEqual(timers.pending(), [17_000 + 105_000], "then refreshed on the period");
});

test("every upload (the default) also keeps a sample whose list.json update lost every race", async () => {
  const { store, rivals } = contendedStore();
  const { upload } = harness(store, { maxAttempts: 2 });
  rivals.on = true;
  const lost = await upload();
  assert.ok(lost.listError instanceof HostListConflictError);
  assert.ok(await store.get(lost.historyKey));
  rivals.on = false;
  assert.ok((await upload()).hostList?.written, "the next upload updates list.json, as every upload does");
});

test("a background refresh that lost every race is tried again after a pause until it succeeds", async () => {
  const { store, rivals } = contendedStore();
  const { upload, advance, timers, logged } = harness(store, { listRefreshMs: 120_000, listJitterMs: 0, maxAttempts: 2 });
  await upload();
  await advance(60_000);
  await upload();
  rivals.on = true;
  await advance(60_000);
  assert.equal(await entryOf(store), iso(0), "the refresh lost");
  // the pause: 1 s + random 0.5 × 1 s (the jitter is 0, the pause's floor is 1 s)
  assert.deepEqual(timers.pending(), [121_500]);
  await advance(1_500);
  assert.deepEqual(logged.map((line) => line.level), ["warn", "debug"]);
  rivals.on = false;
  await advance(1_500);
  assert.equal(await entryOf(store), iso(60_000), "refreshed with the latest upload's time");
  assert.equal(logged.at(-1)?.level, "info");
  assert.deepEqual(timers.pending(), [123_000 + 120_000], "a period after the refresh that succeeded");
});

test("a refresh due while the host uploaded nothing since its listing waits for the next upload", async () => {
  const store = new MemoryStore();
  const { upload, advance, timers } = harness(store, { listRefreshMs: 60_000, listJitterMs: 0 });
  await upload();
  await advance(90_000);
  assert.equal(await entryOf(store), iso(0), "nothing uploaded: the entry is not refreshed");
  assert.deepEqual(timers.pending(), []);
  const putsBefore = store.calls.put;
  await upload();
  await advance(0);
  assert.equal(await entryOf(store), iso(90_000), "the upload started the refresh");
  assert.equal(store.calls.put, putsBefore + 3);
});

test("close stops the background refreshes", async () => {
  const store = new MemoryStore();
  const { writer, upload, advance, timers } = harness(store, { listRefreshMs: 60_000 });
  await upload();
  await writer.close();
  assert.deepEqual(timers.pending(), []);
  await advance(600_000);
  assert.equal(await entryOf(store), iso(0));
});

test("two hosts refreshing on the same period do not lose each other's entries", async () => {
  const store = new MemoryStore();
  const timers = new ManualTimers();
  const clock = () => BASE + timers.elapsed;
  const randoms = [0.1, 0.9];
  const writers = randoms.map((value) => createSampleWriter(store, { timers, clock, random: () => value, listRefreshMs: 120_000 }));
  const uploadAll = () => Promise.all(writers.map((writer, index) => writer.write({ timestamp: new Date(clock()).toISOString(), hostname: `host${index}` }, "{}", new Date(clock()))));
  await uploadAll();
  assert.deepEqual(timers.pending(), [117_000, 93_000].sort((a, b) => a - b), "jitter spreads the two refreshes apart");
  for (let second = 0; second < 300; second += 1) {
    await timers.advance(1000, () => Promise.all(writers.map((writer) => writer.idle())).then(() => undefined));
    await uploadAll();
  }
  const hosts = readHostList((await store.get("list.json"))?.body ?? "")?.hosts;
  for (const host of ["host0", "host1"]) assert.ok(BASE + timers.elapsed - (hosts?.get(host) ?? 0) < 120_000, `${host} refreshed within the period`);
});

test("close while a refresh is under way: it finishes (here losing), and nothing is retried or logged", async () => {
  const { store, rivals } = contendedStore();
  const { writer, upload, advance, timers, logged } = harness(store, { listRefreshMs: 60_000, maxAttempts: 2 });
  await upload();
  await advance(10_000);
  await upload();
  rivals.on = true;
  timers.fireNext();
  await writer.close();
  assert.equal(rivals.writes, 2, "the refresh ran and lost both rounds");
  assert.deepEqual(timers.pending(), []);
  assert.deepEqual(logged, []);
  assert.equal(await entryOf(store), iso(0));
});
