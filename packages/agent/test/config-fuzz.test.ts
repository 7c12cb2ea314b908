import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, loadConfig } from "@resourcemonitor/runtime";
import { runCli, startCli, tempDir, waitFor } from "./cli-helpers.js";

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const KEYS = ["interval", "hostname", "procfs", "stateDir", "collectors", "sinks", "delivery", "logLevel", "bucket", "prefix", "unknown"];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return Math.floor((next() - 0.3) * 1e6) / (next() < 0.5 ? 1 : 7);
    case 3: return ["cpu", "../../etc", "", "x".repeat(300), "memory", "s3"][Math.floor(next() * 6)];
    case 4: return { name: "file", prefix: next() < 0.5 ? "../up" : "ok", timeout: randomValue(next, depth + 1) };
    case 5: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [KEYS[Math.floor(next() * KEYS.length)] as string, randomValue(next, depth + 1)]));
  }
}

/** [file name, content]: random bytes, random JSON/YAML of wrong types, deep nesting, huge files. */
function* configFiles(): Generator<[string, string | Buffer]> {
  const next = random(78);
  for (let round = 0; round < 150; round += 1) {
    yield ["resourcemonitor.config.json", Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)))];
    yield ["resourcemonitor.config.yaml", Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)))];
    const top = Object.fromEntries(KEYS.filter(() => next() < 0.4).map((key) => [key, randomValue(next, 1)]));
    yield ["resourcemonitor.config.json", JSON.stringify(top)];
    yield [".resourcemonitorrc.yaml", Object.entries(top).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join("\n")];
  }
  for (const depth of [1000, 100_000]) {
    yield ["resourcemonitor.config.json", `{"sinks":[{"name":"file","deep":${"[".repeat(depth)}${"]".repeat(depth)}}]}`];
    yield ["resourcemonitor.config.json", `{"sinks":[{"name":"file","deep":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}]}`];
    yield ["resourcemonitor.config.yaml", `sinks:\n  - name: file\n    deep: ${"[".repeat(depth)}${"]".repeat(depth)}\n`];
    yield ["resourcemonitor.config.yaml", `sinks:\n  - name: file\n    deep: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`];
  }
  yield ["resourcemonitor.config.json", JSON.stringify({ sinks: [{ name: "file", big: "x".repeat(20 * 1024 * 1024) }] })];
  yield ["resourcemonitor.config.yaml", "a: &a [*a]\n"];
  yield ["resourcemonitor.config.yaml", "hostname: !!js/function 'function(){}'\n"];
}

test("config fuzz: every file either loads or fails with a ConfigError naming the file, never anything else", { timeout: 120_000 }, async () => {
  const root = await tempDir("rm-config-fuzz-");
  let index = 0;
  let loaded = 0;
  for (const [name, content] of configFiles()) {
    const cwd = join(root, String((index += 1)));
    await mkdir(cwd);
    await writeFile(join(cwd, name), content);
    try {
      await loadConfig({ cwd, env: { RESOURCEMONITOR_ENV_FILE: "/nonexistent" }, defaultCollectors: ["cpu"] });
      loaded += 1;
    } catch (error) {
      assert.ok(error instanceof ConfigError, `${cwd}/${name}: ${(error as Error).stack}`);
      assert.ok(error.message.includes(cwd), `the message names the file: ${error.message.slice(0, 300)}`);
    }
  }
  assert.ok(index > 600 && loaded > 0 && loaded < index, `${loaded} of ${index} loaded`);
});

test("the CLI answers a broken config file with exit 78 and one clear message, for each kind of breakage", { timeout: 60_000 }, async () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ["resourcemonitor.config.json", Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x01]), /cannot read config file .*resourcemonitor\.config\.json/],
    ["resourcemonitor.config.json", '{"interval": "soon"}', /resourcemonitor\.config\.json: invalid configuration:\n {2}\$\.interval: must be integer/],
    ["resourcemonitor.config.yaml", "collectors: 5\n", /resourcemonitor\.config\.yaml: invalid configuration:\n {2}\$\.collectors: must be array/],
    ["resourcemonitor.config.yaml", `sinks: ${"[".repeat(100_000)}`, /cannot read config file .*resourcemonitor\.config\.yaml/],
    ["resourcemonitor.config.json", '{"delivery": {"retryMax": -1}}', /\$\.delivery\.retryMax: must be > 0/],
    ["resourcemonitor.config.json", `{"sinks":[{"name":"file","deep":${"[".repeat(50_000)}${"]".repeat(50_000)}}]}`, /invalid configuration:\n {2}\$\.sinks\[0\]\.deep(\[0\])+: nested more than 32 levels deep/],
  ];
  for (const [name, content, expected] of cases) {
    const cwd = await tempDir();
    await writeFile(join(cwd, name), content);
    const { code, stderr } = await runCli(["config"], { cwd });
    assert.equal(code, 78, stderr);
    assert.match(stderr, /^resourcemonitor: configuration error: /);
    assert.match(stderr, expected);
    assert.ok(!stderr.includes("    at "), `no stack trace: ${stderr}`);
  }
});

test("an agent started on a store with a broken list.json repairs it, keeps the readable entries and the broken text, and says so", { timeout: 30_000 }, async () => {
  const cwd = await tempDir();
  const store = join(cwd, "resourcemonitor-data");
  await mkdir(store);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const broken = `{"other-host": "${stamp}", "cut-off": "20`;
  await writeFile(join(store, "list.json"), broken);
  const agent = startCli(["run", "--interval", "1", "--hostname", "repair-host"], { cwd });
  try {
    const list = await waitFor(async () => JSON.parse(await readFile(join(store, "list.json"), "utf8")) as Record<string, string>, 10_000, "a repaired list.json");
    assert.deepEqual(Object.keys(list), ["other-host", "repair-host"]);
  } finally {
    agent.child.kill("SIGTERM");
  }
  const { code, stderr } = await agent.done;
  assert.equal(code, 0);
  assert.match(stderr, /list\.json was no host list; kept its text as list\.json\.corrupt-\d{8}_\d{6} and rebuilt it/);
  const copy = (await readdir(store)).find((name) => name.startsWith("list.json.corrupt-"));
  assert.equal(await readFile(join(store, copy ?? "missing"), "utf8"), broken);
});
