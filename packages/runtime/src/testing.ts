import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import type { PluginDefinition, Settings } from "./plugin.js";
import { Runtime } from "./runtime.js";
import { formatErrors, compile } from "./validation.js";

export { sinkConformance, conformanceDocuments } from "./sink-conformance.js";
export { assertPluginContract } from "./plugin-contract.js";
export type { SinkUnderTest, SinkConformanceOptions } from "./sink-conformance.js";

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps every line in `lines`, for asserting what a plugin logged. */
export function captureLogger(level = "debug"): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = {
    write(text: string) {
      const { level: number, ...rest } = JSON.parse(text) as { level: number; msg: string };
      lines.push({ ...rest, level: pino.levels.labels[number] ?? String(number) });
    },
  };
  return { logger: pino({ level }, stream), lines };
}

let stateDirs = 0;

export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    hostname: "test-host",
    intervalMs: 1000,
    procfs: "/proc",
    sysfs: "/sys",
    dataDir: "./resourcemonitor-data",
    // A fresh place per call (created only if a sink fails): a spool left by one test must not replay into another.
    stateDir: join(tmpdir(), `rm-test-state-${process.pid}-${(stateDirs += 1)}`),
    ...overrides,
  };
}

export interface CollectResult {
  fragment: Record<string, unknown>;
  logs: LogLine[];
}

export interface CollectOptions {
  procfs?: string;
  sysfs?: string;
  options?: Record<string, unknown>;
  /** Ticks to run; the last one's fragment is returned. */
  ticks?: number;
  /** Awaited before each tick, e.g. to rewrite a fixture file. */
  beforeTick?: (index: number) => void | Promise<void>;
  intervalMs?: number;
}

/**
 * Runs a collector plugin the way the agent does (validated options, start, ticks, stop) and returns the
 * fragment of the last tick. Throws if the fragment fails the plugin's own schema.
 */
export async function collectFragment(plugin: PluginDefinition<never>, opts: CollectOptions = {}): Promise<CollectResult> {
  const { logger, lines } = captureLogger();
  const settings = testSettings({
    procfs: opts.procfs ?? "/proc",
    sysfs: opts.sysfs ?? "/sys",
    intervalMs: opts.intervalMs ?? 1000,
  });
  const runtime = new Runtime({ settings, logger, collectTimeoutMs: 10_000 });
  runtime.use({ definition: plugin, options: opts.options });
  let document: Record<string, unknown> | undefined;
  await runtime.start();
  try {
    for (let index = 0; index < (opts.ticks ?? 1); index += 1) {
      await opts.beforeTick?.(index);
      document = await runtime.collect(new Date());
    }
  } finally {
    await runtime.stop();
  }
  const failure = runtime.plugins[0]?.stats.lastError;
  if (failure || !document) throw new Error(`plugin ${plugin.name}: ${failure ?? "document failed validation"}`);
  const { timestamp: _timestamp, hostname: _hostname, ...fragment } = document;
  if (plugin.fragmentSchema) assertFragmentValid(plugin, fragment);
  return { fragment, logs: lines };
}

export interface FixtureOptions extends Omit<CollectOptions, "procfs" | "sysfs" | "beforeTick" | "options"> {
  /** The plugin's options, or a function of the scratch copy's root (for options that name paths inside it). */
  options?: Record<string, unknown> | ((root: string) => Record<string, unknown>);
  beforeTick?: (index: number, root: string) => void | Promise<void>;
}

/**
 * collectFragment on a copy of a fixture folder holding `proc/` and `sys/` (Telegraf-style testcase input), so
 * `beforeTick(index, root)` may rewrite files between ticks (e.g. move `proc/diskstats.next` over `proc/diskstats`).
 */
export async function collectFromFixture(
  plugin: PluginDefinition<never>,
  folder: string,
  opts: FixtureOptions = {},
): Promise<CollectResult> {
  const root = await mkdtemp(join(tmpdir(), `rm-fixture-${plugin.name}-`));
  try {
    await cp(folder, root, { recursive: true, verbatimSymlinks: true });
    const { beforeTick, options } = opts;
    return await collectFragment(plugin, {
      ...opts,
      options: typeof options === "function" ? options(root) : options,
      procfs: join(root, "proc"),
      sysfs: join(root, "sys"),
      beforeTick: beforeTick && ((index) => beforeTick(index, root)),
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Fails with every problem as `$.path: what was expected` when `fragment` does not meet the plugin's fragment schema. */
export function assertFragmentValid(plugin: PluginDefinition<never>, fragment: Record<string, unknown>): void {
  assert.ok(plugin.fragmentSchema, `plugin ${plugin.name} declares no fragmentSchema`);
  const validate = compile(plugin.fragmentSchema);
  if (!validate(fragment)) assert.fail(`plugin ${plugin.name}: fragment invalid: ${formatErrors(validate.errors).join("; ")}`);
}


/**
 * Registers one node:test per folder of a Telegraf-style `testcases/` directory: what `collect(folder, name)`
 * returns must deep-equal the folder's `expected.json`. Fails when there are fewer than `minimum` cases.
 */
export async function testcases(
  directory: string,
  collect: (folder: string, name: string) => Promise<Record<string, unknown>>,
  minimum = 3,
): Promise<string[]> {
  const names = (await readdir(directory, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  test(`${directory} holds at least ${minimum} testcases`, () => assert.ok(names.length >= minimum, names.join(", ")));
  for (const name of names) {
    test(`testcase ${name}`, async () => {
      const folder = join(directory, name);
      const expected: unknown = JSON.parse(await readFile(join(folder, "expected.json"), "utf8"));
      assert.deepEqual(await collect(folder, name), expected);
    });
  }
  return names;
}

/**
 * Runs `work`, then one more turn of the event loop, and returns `work`'s result with the delays of every
 * `setTimeout` armed meanwhile: a tick that finishes within its turn arms none, and so costs no wakeup later.
 */
export async function timersArmedDuring<T>(work: () => Promise<T>): Promise<{ result: T; armed: number[] }> {
  const armed: number[] = [];
  const { setTimeout: original } = globalThis;
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    armed.push(ms ?? 0);
    return original(callback, ms);
  }) as typeof setTimeout;
  try {
    const result = await work();
    await new Promise((resolve) => setImmediate(resolve));
    return { result, armed };
  } finally {
    globalThis.setTimeout = original;
  }
}
