import { test } from "node:test";
import assert from "node:assert/strict";
import { definePlugin, RUNTIME_API_VERSION, Runtime, type MetricsDocument, type PluginDefinition } from "../src/index.js";
import { captureLogger, testSettings, timersArmedDuring } from "../src/testing.js";

function collector(name: string, collect: (merge: (fragment: Record<string, unknown>) => void) => Promise<void> | void, fragmentSchema?: Record<string, unknown>) {
  return definePlugin({
    apiVersion: RUNTIME_API_VERSION,
    name,
    kind: "collector",
    description: `test collector ${name}`,
    optionsSchema: { type: "object" },
    fragmentSchema,
    apply({ hooks }) {
      hooks.collect.tapPromise(name, async (sample) => collect((fragment) => sample.merge(fragment)));
    },
  }) as PluginDefinition<never>;
}

const good = collector("good", (merge) => merge({ good: { value: 1 } }), {
  type: "object",
  required: ["good"],
  properties: { good: { type: "object", required: ["value"], properties: { value: { type: "number" } } } },
});

function setup(collectTimeoutMs = 100) {
  const { logger, lines } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ hostname: "h1" }), logger, collectTimeoutMs });
  return { runtime, lines };
}

test("fragments of all collectors merge into one document in plugin order", async () => {
  const { runtime } = setup();
  runtime.use({ definition: collector("a", (merge) => merge({ cpu: { usage_percent: 5 } })) });
  runtime.use({ definition: collector("b", async (merge) => merge({ cpu: { temperatures: [] }, memory: { x: 1 } })) });
  const document = await runtime.collect(new Date(Date.UTC(2025, 7, 5, 14, 30, 22, 500)));
  assert.deepEqual(document, {
    timestamp: "2025-08-05T14:30:22Z",
    hostname: "h1",
    cpu: { usage_percent: 5, temperatures: [] },
    memory: { x: 1 },
  });
});

for (const [label, bad, expected] of [
  ["throws", collector("bad", () => { throw new Error("boom"); }), /plugin bad: boom/],
  ["hangs past its timeout", collector("bad", () => new Promise(() => undefined)), /plugin bad: timed out after 100 ms/],
  [
    "returns a fragment that fails its schema",
    collector("bad", (merge) => merge({ bad: { level: "high" } }), {
      type: "object",
      properties: { bad: { type: "object", properties: { level: { type: "number" } } } },
    }),
    /plugin bad: fragment failed its schema: \$\.bad\.level: must be number/,
  ],
  ["merges null", collector("bad", (merge) => merge(null as never)), /plugin bad: sample\.merge\(\) takes an object of fields, got null/],
  ["merges an array", collector("bad", (merge) => merge([1, 2] as never)), /plugin bad: sample\.merge\(\) takes an object of fields, got an array/],
] as const) {
  test(`a collector that ${label} loses only its own fragment, with one warning`, async () => {
    const { runtime, lines } = setup();
    runtime.use({ definition: good });
    runtime.use({ definition: bad });
    for (let tick = 0; tick < 3; tick += 1) {
      const document = await runtime.collect(new Date());
      assert.deepEqual(document?.good, { value: 1 });
      assert.equal(document?.bad, undefined);
    }
    const warnings = lines.filter((line) => line.level === "warn");
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.match(warnings[0]?.msg ?? "", expected);
    assert.equal(runtime.plugins[1]?.stats.failures, 3);
  });
}

test("a collector that recovers is logged once at info", async () => {
  const { runtime, lines } = setup();
  let fail = true;
  runtime.use({ definition: collector("flaky", (merge) => { if (fail) throw new Error("not yet"); merge({ flaky: 1 }); }) });
  await runtime.collect(new Date());
  fail = false;
  assert.equal((await runtime.collect(new Date()))?.flaky, 1);
  assert.ok(lines.some((line) => line.level === "info" && /recovered/.test(line.msg)));
});

test("a late merge from a timed-out collector does not leak into a later document", async () => {
  const { runtime } = setup(50);
  let release: (() => void) | undefined;
  runtime.use({
    definition: collector("slow", async (merge) => {
      await new Promise<void>((resolve) => (release = resolve));
      merge({ slow: true });
    }),
  });
  const first = await runtime.collect(new Date());
  release?.();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(first?.slow, undefined);
});

test("options are validated against the plugin's schema, with defaults filled in", () => {
  const { runtime } = setup();
  const plugin = definePlugin<{ chips: string[] }>({
    apiVersion: RUNTIME_API_VERSION,
    name: "opts",
    kind: "collector",
    description: "options test",
    optionsSchema: { type: "object", additionalProperties: false, properties: { chips: { type: "array", items: { type: "string" }, default: [] } } },
    apply() {},
  }) as PluginDefinition<never>;
  assert.deepEqual(runtime.use({ definition: plugin }).options, { chips: [] });
  assert.throws(() => runtime.use({ definition: plugin, options: { chips: "coretemp" }, source: "cfg.yaml $.collectors[1]" }), {
    message: 'cfg.yaml $.collectors[1]: invalid options:\n  $.chips: must be array',
  });
  assert.throws(() => runtime.use({ definition: plugin, options: { chip: [] }, source: "x" }), /\$: unknown property "chip"/);
});

test("a plugin built for another runtime API is refused with a clear error", () => {
  const { runtime } = setup();
  assert.throws(() => runtime.use({ definition: { ...good, apiVersion: 99 } as PluginDefinition<never> }), /built for runtime API 99, this runtime has API 1/);
});

test("hooks can only be tapped from a plugin's apply", () => {
  const { runtime } = setup();
  assert.throws(() => runtime.hooks.collect.tapPromise("stray", async () => undefined), /only be tapped from a plugin's apply/);
});

test("sinks receive the validated document and its JSON; a failing sink does not stop the others", async () => {
  const { runtime, lines } = setup();
  const received: string[] = [];
  const sink = (name: string, write: (json: string) => Promise<void>) =>
    definePlugin({
      apiVersion: RUNTIME_API_VERSION,
      name,
      kind: "sink",
      description: "test sink",
      optionsSchema: { type: "object" },
      apply({ hooks }) {
        hooks.emit.tapPromise(name, (_document: MetricsDocument, json: string) => write(json));
      },
    }) as PluginDefinition<never>;
  runtime.use({ definition: good });
  runtime.use({ definition: sink("broken", async () => { throw new Error("disk full"); }) });
  runtime.use({ definition: sink("works", async (json) => void received.push(json)) });
  const document = await runtime.collect(new Date(0));
  assert.ok(document);
  const report = await runtime.emit(document);
  assert.deepEqual(JSON.parse(received[0] ?? "null"), document);
  assert.deepEqual(report.sinks.map(({ plugin, ok, spooled, error }) => ({ plugin, ok, spooled, error })), [
    { plugin: "broken", ok: false, spooled: true, error: "disk full" },
    { plugin: "works", ok: true, spooled: false, error: undefined },
  ]);
  assert.ok(lines.some((line) => line.level === "warn" && line.msg.startsWith("sink broken is down: disk full; spooling samples in")));
  await runtime.stop();
});

test("a tick whose collectors and sinks answer at once sets no timer: a cleared timer would still wake the process", async () => {
  const { runtime } = setup();
  runtime.use({ definition: good });
  runtime.use({
    definition: definePlugin({
      apiVersion: RUNTIME_API_VERSION,
      name: "instant",
      kind: "sink",
      description: "test sink",
      optionsSchema: { type: "object" },
      apply({ hooks }) {
        hooks.emit.tapPromise("instant", async () => undefined);
      },
    }) as PluginDefinition<never>,
  });
  const first = await runtime.collect(new Date(0));
  assert.ok(first);
  await runtime.emit(first, { waitMs: 500 }); // opens the spool
  const { result: report, armed } = await timersArmedDuring(async () => {
    const document = await runtime.collect(new Date(1000));
    assert.ok(document);
    return runtime.emit(document, { waitMs: 500 });
  });
  assert.equal(report.sinks[0]?.ok, true);
  assert.deepEqual(armed, []);
  await runtime.stop();
});

test("a document transform that breaks the document stops it from being emitted, logged once", async () => {
  const { runtime, lines } = setup();
  runtime.use({ definition: good });
  runtime.use({
    definition: definePlugin({
      apiVersion: RUNTIME_API_VERSION,
      name: "breaker",
      kind: "collector",
      description: "breaks documents",
      optionsSchema: { type: "object" },
      apply({ hooks }) {
        hooks.document.tap("breaker", (document) => ({ ...document, good: { value: "x" } }));
      },
    }) as PluginDefinition<never>,
  });
  assert.equal(await runtime.collect(new Date()), undefined);
  assert.equal(await runtime.collect(new Date()), undefined);
  const errors = lines.filter((line) => line.level === "error");
  assert.equal(errors.length, 1);
  assert.match(errors[0]?.msg ?? "", /\$\.good\.value: must be number/);
});

test("the document schema composes the base and every collector's fragment schema", () => {
  const { runtime } = setup();
  runtime.use({ definition: good });
  const schema = runtime.documentSchema() as { allOf: Record<string, unknown>[] };
  assert.equal(schema.allOf.length, 2);
  assert.deepEqual(schema.allOf[1], good.fragmentSchema);
});

test("a plugin that overwrites another's field with the wrong type loses its own fragment, not the document; logged once", async () => {
  const { runtime, lines } = setup();
  runtime.use({ definition: good });
  runtime.use({ definition: collector("clobber", (merge) => merge({ good: { value: "text" }, clobber: { mine: 1 } })) });
  runtime.use({ definition: collector("other", (merge) => merge({ other: { fine: true } })) });
  for (let tick = 0; tick < 3; tick += 1) {
    assert.deepEqual(await runtime.collect(new Date(Date.UTC(2025, 0, 1))), { timestamp: "2025-01-01T00:00:00Z", hostname: "h1", good: { value: 1 }, other: { fine: true } });
  }
  const warnings = lines.filter((line) => line.level === "warn");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.msg ?? "", /^plugin clobber: its fragment overwrote another plugin's values and broke the document \(\$\.good\.value: must be number\); left out of this tick$/);
  assert.deepEqual(runtime.plugins.map(({ stats }) => [stats.runs, stats.failures]), [[3, 0], [3, 3], [3, 0]]);
});

test("a collector cannot change the document's hostname or timestamp", async () => {
  const { runtime } = setup();
  runtime.use({ definition: collector("liar", (merge) => merge({ hostname: "other-host", timestamp: "1999-01-01T00:00:00Z", liar: {} })) });
  assert.deepEqual(await runtime.collect(new Date(Date.UTC(2025, 0, 1))), { timestamp: "2025-01-01T00:00:00Z", hostname: "h1", liar: {} });
});
