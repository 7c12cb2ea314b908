import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Runtime } from "@resourcemonitor/runtime";
import { captureLogger, collectFragment, testcases, testSettings, timersArmedDuring } from "@resourcemonitor/runtime/testing";
import plugin, { type Gpu } from "../src/index.js";
import { FAKE_NVIDIA_SMI, freshFakeNvml, sleep, withEnv, type Variant } from "./fake.js";

const TESTCASES = join(import.meta.dirname, "testcases");

interface Case {
  variant: Variant;
  env: Record<string, string>;
  ticks: number;
  pauseMs?: number;
}

/** Options that make the backoff short enough for a test; everything else at its default. */
const FAST = { backend: "nvml", reopenDelay: 0.05 };

await testcases(TESTCASES, async (folder) => {
  const spec = JSON.parse(await readFile(join(folder, "case.json"), "utf8")) as Case;
  const fake = await freshFakeNvml(spec.variant);
  const { fragment } = await withEnv(spec.env, () =>
    collectFragment(plugin, {
      options: { ...FAST, libraryPath: fake.path },
      ticks: spec.ticks,
      beforeTick: (index) => (index > 0 && spec.pauseMs ? sleep(spec.pauseMs) : undefined),
    }),
  );
  return fragment;
});

test("init once, names once, NOT_SUPPORTED asked once per device; v2 memory carries its version", async () => {
  const fake = await freshFakeNvml();
  await collectFragment(plugin, { options: { ...FAST, libraryPath: fake.path }, ticks: 4 });
  assert.equal(fake.calls("nvmlInit_v2"), 1);
  assert.equal(fake.calls("nvmlShutdown"), 1, "shut down at stop");
  assert.equal(fake.calls("nvmlDeviceGetName"), 2, "names are read at enumeration only");
  assert.equal(fake.calls("nvmlDeviceGetFanSpeed"), 4 + 1, "GPU 0 every tick, GPU 1 (no fan) once");
  // The fake refuses a wrong version with ARGUMENT_VERSION_MISMATCH, which would send the plugin to v1.
  assert.equal(fake.calls("nvmlDeviceGetMemoryInfo_v2"), 8);
  assert.equal(fake.calls("nvmlDeviceGetMemoryInfo"), 0);
});

test("no library at the path: gpu is [], one info line naming the path and why", async () => {
  const { fragment, logs } = await collectFragment(plugin, { options: { backend: "nvml", libraryPath: "/nonexistent/libnvidia-ml.so.1" }, ticks: 3 });
  assert.deepEqual(fragment, { gpu: [] });
  const said = logs.filter((line) => line.level === "info" && line.msg.includes("/nonexistent/libnvidia-ml.so.1"));
  assert.equal(said.length, 1, JSON.stringify(logs));
  assert.match(said[0]?.msg ?? "", /cannot load .*No such file/);
  assert.equal(logs.filter((line) => line.level === "warn" || line.level === "error").length, 0);
});

test("a library without NVML's symbols: gpu is [], the info line names the missing function", async () => {
  const { fragment, logs } = await collectFragment(plugin, { options: { backend: "nvml", libraryPath: "libc.so.6" }, ticks: 2 });
  assert.deepEqual(fragment, { gpu: [] });
  assert.equal(logs.filter((line) => line.level === "info" && /libc\.so\.6 has no nvmlInit_v2/.test(line.msg)).length, 1);
});

test("driver not loaded: retried after retryInterval, and said once", async () => {
  const fake = await freshFakeNvml();
  const { fragment, logs } = await withEnv({ FAKE_NVML_INIT_RESULT: "9" }, () =>
    collectFragment(plugin, {
      options: { backend: "nvml", libraryPath: fake.path, retryInterval: 1 },
      ticks: 4,
      beforeTick: (index) => (index === 2 ? sleep(1100) : undefined),
    }),
  );
  assert.deepEqual(fragment, { gpu: [] });
  assert.equal(fake.calls("nvmlInit_v2"), 2, "once at start, once more after retryInterval; not on every tick");
  const said = logs.filter((line) => line.level === "info" && line.msg.includes("Driver Not Loaded (9)"));
  assert.equal(said.length, 1);
});

test("a GPU lost mid-run: the other keeps reporting in the same tick, one warning, NVML reopened", async () => {
  const fake = await freshFakeNvml();
  const seen: number[][] = [];
  const { logs } = await withEnv({ FAKE_NVML_LOST_AFTER: "2" }, async () => {
    const { logger, lines } = captureLogger();
    const runtime = new Runtime({ settings: testSettings(), logger, collectTimeoutMs: 5000 });
    runtime.use({ definition: plugin, options: { ...FAST, libraryPath: fake.path } });
    await runtime.start();
    for (let tick = 0; tick < 3; tick += 1) {
      const document = await runtime.collect(new Date());
      seen.push(((document?.gpu ?? []) as Gpu[]).map((gpu) => gpu.index));
      await sleep(150);
    }
    await runtime.stop();
    return { logs: lines };
  });
  assert.deepEqual(seen, [[0, 1], [0], [0]]);
  assert.equal(logs.filter((line) => line.level === "warn" && /GPU 1 .* is lost; the others keep reporting/.test(line.msg)).length, 1);
  assert.equal(fake.calls("nvmlInit_v2"), 2, "reopened once after the loss");
  assert.ok(logs.some((line) => line.level === "warn" && /GPU 1 cannot be opened: GPU is lost \(15\)/.test(line.msg)));
});

test("a read that takes the driver a millisecond or two keeps the tick in one turn: no collect deadline is armed, so no wakeup for nothing half an interval later", async () => {
  const fake = await freshFakeNvml();
  const { result: document, armed } = await withEnv({ FAKE_NVML_SLOW_MS: "1" }, async () => {
    const runtime = new Runtime({ settings: testSettings(), logger: captureLogger().logger, collectTimeoutMs: 500 });
    runtime.use({ definition: plugin, options: { ...FAST, libraryPath: fake.path } });
    await runtime.start();
    await runtime.collect(new Date()); // opens NVML and reads the names
    try {
      return await timersArmedDuring(() => runtime.collect(new Date()));
    } finally {
      await runtime.stop();
    }
  });
  assert.deepEqual(((document?.gpu ?? []) as Gpu[]).map((gpu) => gpu.index), [0, 1]);
  assert.deepEqual(armed, [], "the collect deadline was armed: the answer came after the tick's first turn");
});

test("driver swapped under the agent (LIB_RM_VERSION_MISMATCH): NVML shut down, reopened after the delay, both GPUs back", async () => {
  const fake = await freshFakeNvml();
  const counts: number[] = [];
  await withEnv({ FAKE_NVML_MISMATCH_AFTER: "3" }, async () => {
    const { logger, lines } = captureLogger();
    const runtime = new Runtime({ settings: testSettings(), logger, collectTimeoutMs: 5000 });
    runtime.use({ definition: plugin, options: { ...FAST, libraryPath: fake.path } });
    await runtime.start();
    for (let tick = 0; tick < 3; tick += 1) {
      counts.push(((await runtime.collect(new Date()))?.gpu as Gpu[]).length);
      await sleep(150);
    }
    await runtime.stop();
    assert.equal(lines.filter((line) => line.level === "warn" && /version mismatch\. \(18\); reopening/.test(line.msg)).length, 1);
  });
  assert.deepEqual(counts, [2, 0, 2]);
  assert.equal(fake.calls("nvmlInit_v2"), 2);
  assert.equal(fake.calls("nvmlShutdown"), 2, "once for the mismatch, once at stop");
});

test("a driver call that hangs stalls neither the event loop nor the tick: the fragment is left out after the timeout", async () => {
  const fake = await freshFakeNvml();
  await withEnv({ FAKE_NVML_SLOW_MS: "1500" }, async () => {
    const { logger, lines } = captureLogger();
    const runtime = new Runtime({ settings: testSettings(), logger, collectTimeoutMs: 300 });
    runtime.use({ definition: plugin, options: { ...FAST, libraryPath: fake.path } });
    await runtime.start();
    let beats = 0;
    const heartbeat = setInterval(() => (beats += 1), 10);
    const started = performance.now();
    const document = await runtime.collect(new Date());
    const took = performance.now() - started;
    clearInterval(heartbeat);
    await runtime.stop();
    assert.equal(document?.gpu, undefined, "the fragment is left out");
    assert.ok(took < 1000, `the tick took ${took} ms`);
    assert.ok(beats >= 15, `the event loop ran ${beats} 10 ms timers during a 300 ms tick`);
    assert.ok(lines.some((line) => line.level === "warn" && /plugin nvidia: timed out after 300 ms/.test(line.msg)));
  });
});

test("backend auto: NVML library missing but nvidia-smi present: reads through nvidia-smi", async () => {
  const { fragment, logs } = await collectFragment(plugin, {
    options: { backend: "auto", libraryPath: "/nonexistent/libnvidia-ml.so.1", nvidiaSmiPath: FAKE_NVIDIA_SMI },
    ticks: 2,
    intervalMs: 200,
    beforeTick: (index) => (index === 1 ? sleep(600) : undefined),
  });
  assert.deepEqual(
    (fragment.gpu as Gpu[]).map((gpu) => gpu.name),
    ["NVIDIA GeForce RTX 4080", "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"],
  );
  assert.ok(logs.some((line) => line.level === "info" && line.msg.includes("reading GPUs through")));
});

test("options are checked", async () => {
  await assert.rejects(collectFragment(plugin, { options: { backend: "cuda" } }), /backend/);
  await assert.rejects(collectFragment(plugin, { options: { retryInterval: 0 } }), /retryInterval/);
  await assert.rejects(collectFragment(plugin, { options: { library: "x" } }), /library/);
});
