import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { MetricsDocument, PluginDefinition, Settings } from "./plugin.js";
import { assertPluginContract } from "./plugin-contract.js";
import { Runtime } from "./runtime.js";

export interface SinkUnderTest {
  definition: PluginDefinition<never>;
  /** The sink's options as a config entry would give them (without `name`). */
  options?: Record<string, unknown>;
  settings?: Partial<Settings>;
  /** What reached the far end (a file, a server, a pipe) so far, in arrival order: documents or their JSON texts. */
  received?: () => Promise<unknown[]>;
  cleanup(): Promise<void>;
}

export interface SinkConformanceOptions {
  /** Documents per delivery test (default 20). */
  documents?: number;
  /**
   * false for a sink that keeps only the latest document (a scrape endpoint): the suite then checks the plugin
   * contract and the lifecycle, not delivery. Default true, and then `received` is required.
   */
  keepsEveryDocument?: boolean;
}

/** `count` documents one second apart, each different from the others, shaped like the agent's. */
export function conformanceDocuments(count: number, hostname = "conformance-host"): MetricsDocument[] {
  const start = Date.parse("2025-08-05T14:30:00Z");
  return Array.from({ length: count }, (_, index) => ({
    timestamp: `${new Date(start + index * 1000).toISOString().slice(0, 19)}Z`,
    hostname,
    cpu: { usage_percent: index % 101, usage_per_core: [index % 7, 100 - (index % 7)], frequency: { current: 2400.5 + index, min: null, max: null }, count_logical: 2, count_physical: 1, temperatures: [] },
    memory: { virtual: { total: 16_777_216_000, available: 8_000_000_000 - index, used: 8_777_216_000 + index, percent: 52.3, free: 1_000_000_000 }, swap: { total: 0, used: 0, free: 0, percent: 0 } },
    gpu: [],
  }));
}

/** One document with everything JSON can make awkward: non-ASCII, escapes, nulls, deep nesting, large arrays. */
function awkwardDocument(hostname: string): MetricsDocument {
  return {
    timestamp: "2025-08-05T15:00:00Z",
    hostname,
    note: "ünïcödé 🖥 \"quoted\" back\\slash\nnew line\ttab \u0001 </script>",
    cpu: { usage_percent: 0, usage_per_core: Array.from({ length: 512 }, (_, core) => (core * 37) % 100), frequency: { current: null, min: null, max: null }, count_logical: 512, count_physical: null, temperatures: [{ sensor: "Package id 0", temperature: -5.5, high: null, critical: 105 }] },
    memory: { virtual: { total: 2 ** 52, available: 0, used: 2 ** 52, percent: 100, free: 0 }, swap: { total: null, used: null, free: null, percent: null } },
    gpu: Array.from({ length: 16 }, (_, index) => ({ index, name: `NVIDIA H100 80GB HBM3 #${index}`, memory: { total: 85_899_345_920, used: index, free: 85_899_345_920 - index, percent: 0 }, utilization: { gpu: index, memory: null }, temperature: 30 + index, power_usage_watts: 69.123, fan_speed_percent: null })),
  };
}

function asDocument(item: unknown): unknown {
  return typeof item === "string" ? JSON.parse(item) : item;
}

/**
 * Registers the node:test tests every sink must pass: it meets the plugin contract, starts, takes documents
 * (each reported ok) and stops; and, where it keeps every document, every document emitted arrives, in order,
 * intact. `make` gives each test a fresh sink and its far end.
 */
export function sinkConformance(name: string, make: () => Promise<SinkUnderTest>, opts: SinkConformanceOptions = {}): void {
  const count = opts.documents ?? 20;
  const withSink = (work: (runtime: Runtime, sink: SinkUnderTest) => Promise<void>) => async () => {
    const sink = await make();
    const runtime = new Runtime({ settings: { hostname: "conformance-host", intervalMs: 1000, procfs: "/proc", sysfs: "/sys", dataDir: "/nonexistent", stateDir: "/nonexistent", ...sink.settings }, logger: pino({ level: "silent" }) });
    try {
      runtime.use({ definition: sink.definition, options: sink.options });
      await work(runtime, sink);
    } finally {
      await sink.cleanup();
    }
  };
  const emitAll = async (runtime: Runtime, documents: MetricsDocument[]) => {
    for (const document of documents) {
      const report = await runtime.emit(document);
      assert.deepEqual(report.sinks.map(({ ok, error }) => ({ ok, error })), [{ ok: true, error: undefined }], `emit of ${document.timestamp}`);
    }
  };

  describe(`sink conformance: ${name}`, () => {
    it("is a sink built for this runtime, with a description on every option", async () => {
      const { definition, cleanup } = await make();
      await cleanup();
      assert.equal(definition.kind, "sink");
      assertPluginContract(definition);
    });

    it("starts, reports every emit ok, and stops within 5 s", withSink(async (runtime, sink) => {
      await runtime.start();
      await emitAll(runtime, conformanceDocuments(3, runtime.settings.hostname));
      const started = performance.now();
      await runtime.stop();
      assert.ok(performance.now() - started < 5000, "stop took longer than 5 s");
      if (sink.received) assert.equal((await sink.received()).length, 3);
    }));

    it("refuses options it does not know", async () => {
      const { definition, cleanup } = await make();
      await cleanup();
      const runtime = new Runtime({ settings: { hostname: "h", intervalMs: 1000, procfs: "/proc", sysfs: "/sys", dataDir: "/x", stateDir: "/x" }, logger: pino({ level: "silent" }) });
      assert.throws(() => runtime.use({ definition, options: { "no-such-option-anywhere": true } }), /no-such-option-anywhere/);
    });

    if (opts.keepsEveryDocument === false) return;
    const arrived = (sink: SinkUnderTest) => {
      assert.ok(sink.received, "a sink that keeps every document gives the suite received()");
      return sink.received();
    };
    it(`every document emitted arrives, in order, intact (${count} documents)`, withSink(async (runtime, sink) => {
      const documents = conformanceDocuments(count, runtime.settings.hostname);
      await runtime.start();
      await emitAll(runtime, documents);
      await runtime.stop();
      assert.deepEqual((await arrived(sink)).map(asDocument), documents);
    }));

    it("awkward content (non-ASCII, escapes, nulls, 512 cores, 16 GPUs) arrives intact", withSink(async (runtime, sink) => {
      const document = awkwardDocument(runtime.settings.hostname);
      await runtime.start();
      await emitAll(runtime, [document]);
      await runtime.stop();
      assert.deepEqual((await arrived(sink)).map(asDocument), [document]);
    }));
  });
}
