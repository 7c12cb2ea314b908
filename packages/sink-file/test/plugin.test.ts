import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { PluginOptionsError, Runtime, type MetricsDocument } from "@resourcemonitor/runtime";
import { captureLogger, testSettings } from "@resourcemonitor/runtime/testing";
import fileSink from "../src/index.js";

const DOCUMENT: MetricsDocument = {
  timestamp: "2025-08-05T14:30:22Z",
  hostname: "server01",
  cpu: { usage_percent: 25.4, usage_per_core: [20.1, 30.7], count_logical: 2, count_physical: 1 },
  memory: { virtual: { total: 16777216000, available: 8388608000, used: 8388608000, percent: 50, free: 8388608000 } },
  gpu: [],
};

/** A folder's entries (recursive or not), less list.json's lock base: the one hidden file the store keeps. */
async function entries(dir: string, recursive = false): Promise<string[]> {
  return (await readdir(dir, { recursive })).filter((name) => basename(name) !== ".list.json.lockbase").sort();
}

async function withSink(
  options: Record<string, unknown>,
  work: (context: { runtime: Runtime; dataDir: string; lines: ReturnType<typeof captureLogger>["lines"] }) => Promise<void>,
  hostname = "server01",
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "rm-sink-file-"));
  const { logger, lines } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ dataDir, hostname }), logger });
  try {
    runtime.use({ definition: fileSink, options });
    await work({ runtime, dataDir, lines });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}

test("a sample lands in <host>.json, history/<host>/<YYYYMMDD_HHMMSS>.json and list.json under dataDir", () => withSink({}, async ({ runtime, dataDir, lines }) => {
  await runtime.start();
  const before = Date.now();
  const report = await runtime.emit(DOCUMENT);
  assert.deepEqual(report.sinks.map(({ plugin, ok, error }) => ({ plugin, ok, error })), [{ plugin: "file", ok: true, error: undefined }]);
  const json = JSON.stringify(DOCUMENT);
  assert.equal(await readFile(join(dataDir, "server01.json"), "utf8"), json);
  assert.equal(await readFile(join(dataDir, "history", "server01", "20250805_143022.json"), "utf8"), json);
  const list = (await readJson(join(dataDir, "list.json"))) as Record<string, string>;
  assert.deepEqual(Object.keys(list), ["server01"]);
  assert.match(list.server01 ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Date.parse(list.server01 ?? "") >= Math.floor(before / 1000) * 1000, "list.json has the upload time");
  assert.deepEqual(await entries(dataDir, true), ["history", join("history", "server01"), join("history", "server01", "20250805_143022.json"), "list.json", "server01.json"]);
  const started = lines.filter((line) => line.level === "info" && line.msg.includes(dataDir));
  assert.equal(started.length, 1, JSON.stringify(lines));
  assert.equal(started[0]?.dir, dataDir);
}));

test("a second tick overwrites latest, adds history and keeps one list entry", () => withSink({}, async ({ runtime, dataDir }) => {
  await runtime.start();
  await runtime.emit(DOCUMENT);
  const next = { ...DOCUMENT, timestamp: "2025-08-05T14:31:22Z" };
  await runtime.emit(next);
  assert.equal(((await readJson(join(dataDir, "server01.json"))) as MetricsDocument).timestamp, next.timestamp);
  assert.deepEqual(await readdir(join(dataDir, "history", "server01")), ["20250805_143022.json", "20250805_143122.json"]);
  assert.deepEqual(Object.keys((await readJson(join(dataDir, "list.json"))) as object), ["server01"]);
}));

test("dir and prefix options place the store elsewhere", () => withSink({}, async ({ dataDir }) => {
  const { logger } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ dataDir: join(dataDir, "unused") }), logger });
  runtime.use({ definition: fileSink, options: { dir: join(dataDir, "elsewhere"), prefix: "fleet-a" } });
  await runtime.start();
  await runtime.emit(DOCUMENT);
  assert.deepEqual(await entries(join(dataDir, "elsewhere", "fleet-a")), ["history", "list.json", "server01.json"]);
  assert.deepEqual(await readdir(dataDir), ["elsewhere"]);
}));

test("other hosts' fresh entries in list.json are kept, stale ones dropped", () => withSink({}, async ({ runtime, dataDir }) => {
  await runtime.start();
  const fresh = new Date(Date.now() - 60_000).toISOString().slice(0, 19) + "Z";
  await writeFile(join(dataDir, "list.json"), JSON.stringify({ server02: fresh, gone: "2020-01-01T00:00:00Z" }));
  await runtime.emit(DOCUMENT);
  const list = (await readJson(join(dataDir, "list.json"))) as Record<string, string>;
  assert.deepEqual(Object.keys(list), ["server01", "server02"]);
  assert.equal(list.server02, fresh);
}));

test("a corrupt list.json is kept aside with a warning and rebuilt", () => withSink({}, async ({ runtime, dataDir, lines }) => {
  await runtime.start();
  await writeFile(join(dataDir, "list.json"), "{ truncated");
  await runtime.emit(DOCUMENT);
  const aside = (await readdir(dataDir)).filter((name) => name.startsWith("list.json.corrupt-"));
  assert.equal(aside.length, 1);
  assert.match(aside[0] ?? "", /^list\.json\.corrupt-\d{8}_\d{6}$/);
  assert.equal(await readFile(join(dataDir, aside[0] ?? ""), "utf8"), "{ truncated");
  assert.deepEqual(Object.keys((await readJson(join(dataDir, "list.json"))) as object), ["server01"]);
  assert.ok(lines.some((line) => line.level === "warn" && line.msg.includes(aside[0] ?? "?")), JSON.stringify(lines));
}));

test("a hostname that would escape its key stops the start", () => withSink({}, async ({ runtime, dataDir }) => {
  await assert.rejects(runtime.start(), /invalid hostname "\.\.\/etc": contains '\/'/);
  assert.deepEqual(await readdir(dataDir), []);
}, "../etc"));

test("options are checked: unknown keys and prefixes that could escape are refused", () => {
  const { logger } = captureLogger();
  const runtime = new Runtime({ settings: testSettings(), logger });
  for (const options of [{ prefix: "../up" }, { prefix: "/abs" }, { prefix: ".hidden" }, { prefix: "a//b" }, { dir: "" }, { bucket: "x" }]) {
    assert.throws(() => runtime.use({ definition: fileSink, options }), PluginOptionsError, JSON.stringify(options));
  }
  for (const prefix of ["", "fleet-a", "a/b/", "prod/eu-west"]) runtime.use({ definition: fileSink, options: { prefix } });
});

test("a write that fails is reported as this sink's failure, not thrown", () => withSink({}, async ({ runtime, dataDir }) => {
  await runtime.start();
  await writeFile(join(dataDir, "history"), "a file where the history folder belongs");
  const report = await runtime.emit(DOCUMENT);
  assert.equal(report.sinks[0]?.ok, false);
  assert.match(report.sinks[0]?.error ?? "", /ENOTDIR|EEXIST/);
}));

test("the plugin describes itself and its options", () => {
  assert.equal(fileSink.kind, "sink");
  assert.equal(fileSink.name, "file");
  const properties = fileSink.optionsSchema.properties as Record<string, { description?: string }>;
  for (const [name, schema] of Object.entries(properties)) assert.ok(schema.description, `${name} has a description`);
});

test("with listRefreshSeconds, the first sample lists the host and later ones leave list.json to the background refresh", () => withSink({ listRefreshSeconds: 60 }, async ({ runtime, dataDir }) => {
  await runtime.start();
  await runtime.emit(DOCUMENT);
  const listed = await readFile(join(dataDir, "list.json"), "utf8");
  assert.deepEqual(Object.keys(JSON.parse(listed) as object), ["server01"]);
  const next = { ...DOCUMENT, timestamp: "2025-08-05T14:31:22Z" };
  await runtime.emit(next);
  assert.equal(((await readJson(join(dataDir, "server01.json"))) as MetricsDocument).timestamp, next.timestamp);
  assert.deepEqual(await readdir(join(dataDir, "history", "server01")), ["20250805_143022.json", "20250805_143122.json"]);
  assert.equal(await readFile(join(dataDir, "list.json"), "utf8"), listed, "the fresh entry was not rewritten");
  await runtime.stop();
}));

test("listRefreshSeconds above the 5-minute expiry less a minute is refused", () => withSink({}, async ({ dataDir }) => {
  const { logger } = captureLogger();
  const runtime = new Runtime({ settings: testSettings({ dataDir }), logger });
  assert.throws(() => runtime.use({ definition: fileSink, options: { listRefreshSeconds: 600 } }), (error: unknown) => error instanceof PluginOptionsError && /listRefreshSeconds/.test(error.message));
}));
