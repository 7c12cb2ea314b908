import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, RUNTIME_API_VERSION, Runtime, type Delivery, type MetricsDocument, type PluginDefinition } from "../src/index.js";
import { captureLogger, testSettings } from "../src/testing.js";

type Mode = "ok" | "fail" | "freeze";

/** A sink whose behaviour the test switches; it records what it stored and how. */
function controllableSink() {
  const stored: { n: number; replay: boolean; latest: boolean }[] = [];
  const state = { mode: "ok" as Mode, attempts: 0, attemptTimes: [] as number[] };
  const definition = definePlugin({
    apiVersion: RUNTIME_API_VERSION,
    name: "flaky",
    kind: "sink",
    description: "test sink",
    optionsSchema: { type: "object" },
    apply({ hooks }) {
      hooks.emit.tapPromise("flaky", async (document: MetricsDocument, _json: string, delivery: Delivery) => {
        state.attempts += 1;
        state.attemptTimes.push(Date.now());
        if (state.mode === "fail") throw new Error("connection refused");
        if (state.mode === "freeze") {
          await new Promise((resolve) => delivery.signal.addEventListener("abort", resolve));
          throw new Error("aborted");
        }
        stored.push({ n: document.n as number, replay: delivery.replay, latest: delivery.latest });
      });
    },
  }) as PluginDefinition<never>;
  return { definition, stored, state };
}

const documentAt = (n: number): MetricsDocument => ({ timestamp: new Date(Date.UTC(2025, 7, 5, 14, 0, n)).toISOString().replace(/\.\d+Z$/, "Z"), hostname: "h1", n });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function withRuntime(work: (context: { stateDir: string }) => Promise<void>): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "rm-delivery-"));
  try {
    await work({ stateDir });
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

const FAST = { retryInitialMs: 20, retryMaxMs: 100, flushTimeoutMs: 300 };

test("an outage: samples are spooled, replayed oldest first when the sink is back, never overtaken; one log line per state change", () => withRuntime(async ({ stateDir }) => {
  const { logger, lines } = captureLogger();
  const sink = controllableSink();
  const runtime = new Runtime({ settings: testSettings({ stateDir }), logger, delivery: FAST });
  runtime.use({ definition: sink.definition });
  await runtime.start();
  await runtime.emit(documentAt(0));
  sink.state.mode = "fail";
  for (let n = 1; n <= 10; n += 1) {
    const report = await runtime.emit(documentAt(n));
    assert.deepEqual(report.sinks.map(({ ok, spooled }) => ({ ok, spooled })), [{ ok: false, spooled: true }]);
  }
  assert.equal(runtime.health().sinks[0]?.depth, 10);
  assert.equal(runtime.health().sinks[0]?.state, "down");
  sink.state.mode = "ok";
  for (let n = 11; n <= 14; n += 1) {
    await runtime.emit(documentAt(n));
    await sleep(5);
  }
  await waitUntil(() => sink.stored.length === 15, 5000, "all 15 stored");
  await runtime.emit(documentAt(15));
  await runtime.stop();
  assert.deepEqual(sink.stored.map(({ n }) => n), Array.from({ length: 16 }, (_, n) => n), "in time order, each once");
  const replayed = sink.stored.filter(({ replay }) => replay);
  assert.ok(replayed.length >= 10);
  assert.deepEqual(replayed.filter(({ latest }) => latest).map(({ n }) => n).at(-1), replayed.at(-1)?.n, "the last one replayed may move latest");
  assert.ok(replayed.slice(0, 5).every(({ latest }) => !latest), "older replayed samples go to history only");
  assert.deepEqual(sink.stored.at(-1), { n: 15, replay: false, latest: true }, "live again once the spool is empty");
  const warnings = lines.filter((line) => line.level === "warn" && /^sink flaky/.test(line.msg));
  assert.equal(warnings.length, 1, warnings.map((line) => line.msg).join("\n"));
  assert.match(warnings[0]?.msg ?? "", /^sink flaky is down: connection refused; spooling samples in .*flaky and retrying with backoff/);
  assert.ok(lines.some((line) => line.level === "info" && /^sink flaky recovered after \d+ s: replayed \d+ spooled samples$/.test(line.msg)));
  const health = runtime.health().sinks[0];
  assert.equal(health?.depth, 0);
  assert.equal(health?.lastError, "connection refused");
}));

test("retries back off exponentially, capped, while the sink stays down; the still-down report repeats with the depth", () => withRuntime(async ({ stateDir }) => {
  const { logger, lines } = captureLogger();
  const sink = controllableSink();
  const runtime = new Runtime({ settings: testSettings({ stateDir }), logger, delivery: { ...FAST, retryInitialMs: 20, retryMaxMs: 160, reportEveryMs: 300 } });
  runtime.use({ definition: sink.definition });
  await runtime.start();
  sink.state.mode = "fail";
  await runtime.emit(documentAt(0));
  await sleep(1500);
  await runtime.stop();
  const gaps = sink.state.attemptTimes.slice(1).map((time, index) => time - (sink.state.attemptTimes[index] as number));
  assert.ok(gaps.length >= 6 && gaps.length <= 25, `${gaps.length} retries in 1.5 s`);
  assert.ok(gaps.every((gap) => gap <= 200), `capped: ${gaps.join(",")}`);
  // Growth, not exact times: on a loaded machine the first retry (20 ms plus jitter) can come 20 ms late.
  const lastThree = gaps.slice(-3);
  assert.ok((gaps[0] as number) < Math.min(...lastThree) && lastThree.every((gap) => gap >= 70), `grows: ${gaps.join(",")}`);
  const stillDown = lines.filter((line) => /^sink flaky still down after \d+ s: connection refused; 1 samples spooled \(\d+ bytes\), 0 dropped$/.test(line.msg));
  assert.ok(stillDown.length >= 2 && stillDown.length <= 6, `${stillDown.length} still-down reports`);
}));

test("a sink slower than the tick's wait: the tick goes on, the sample is spooled, and it is stored once the write lands", () => withRuntime(async ({ stateDir }) => {
  const { logger } = captureLogger();
  const stored: number[] = [];
  const slow = definePlugin({
    apiVersion: RUNTIME_API_VERSION,
    name: "slow",
    kind: "sink",
    description: "slow sink",
    optionsSchema: { type: "object" },
    apply({ hooks }) {
      hooks.emit.tapPromise("slow", async (document: MetricsDocument) => {
        await sleep(document.n === 0 ? 300 : 1);
        stored.push(document.n as number);
      });
    },
  }) as PluginDefinition<never>;
  const runtime = new Runtime({ settings: testSettings({ stateDir }), logger, delivery: FAST });
  runtime.use({ definition: slow });
  await runtime.start();
  const started = performance.now();
  const report = await runtime.emit(documentAt(0), { waitMs: 50 });
  assert.ok(performance.now() - started < 250, "the tick did not wait for the write");
  assert.equal(report.sinks[0]?.spooled, true);
  await runtime.emit(documentAt(1), { waitMs: 50 });
  await waitUntil(() => stored.includes(1), 3000, "sample 1");
  await runtime.stop();
  assert.deepEqual([...new Set(stored)], [0, 1], "sample 0 landed (maybe twice: the layout keeps one), then 1");
}));

test("shutdown with a frozen sink ends within the flush deadline; the next start delivers what was spooled", () => withRuntime(async ({ stateDir }) => {
  const first = controllableSink();
  const { logger, lines } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ stateDir }), logger, delivery: FAST });
  runtime.use({ definition: first.definition });
  await runtime.start();
  first.state.mode = "freeze";
  for (let n = 0; n < 3; n += 1) await runtime.emit(documentAt(n), { waitMs: 30 });
  const started = performance.now();
  await runtime.stop();
  assert.ok(performance.now() - started < 1000, `stop took ${performance.now() - started} ms`);
  assert.ok(lines.some((line) => /^sink flaky: 3 samples stay spooled in .*; the next start delivers them$/.test(line.msg)));

  const second = controllableSink();
  const restarted = new Runtime({ settings: testSettings({ stateDir }), logger, delivery: FAST });
  restarted.use({ definition: second.definition });
  await restarted.start();
  await waitUntil(() => second.stored.length === 3, 3000, "the spooled samples");
  await restarted.stop();
  assert.deepEqual(second.stored.map(({ n, replay }) => ({ n, replay })), [0, 1, 2].map((n) => ({ n, replay: true })));
  assert.equal(second.stored.at(-1)?.latest, true);
}));

test("shutdown cuts a tick's long wait for a slow sink short: its document is spooled at once, without a 'down' warning", () => withRuntime(async ({ stateDir }) => {
  const sink = controllableSink();
  const { logger, lines } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ stateDir, intervalMs: 60_000 }), logger, delivery: FAST });
  runtime.use({ definition: sink.definition });
  await runtime.start();
  sink.state.mode = "freeze";
  const started = performance.now();
  const emitted = runtime.emit(documentAt(0), { waitMs: 55_000 });
  await sleep(100);
  runtime.cutTickWaits();
  const report = await emitted;
  assert.ok(performance.now() - started < 1000, `the tick ended ${performance.now() - started} ms after it began`);
  assert.deepEqual(report.sinks.map(({ ok, spooled }) => ({ ok, spooled })), [{ ok: false, spooled: true }]);
  await runtime.stop();
  assert.ok(!lines.some((line) => /is down/.test(line.msg)), "no outage is reported for a shutdown");
  assert.ok(lines.some((line) => /^sink flaky: 1 samples stay spooled/.test(line.msg)));
}));
