import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { load as parseYaml } from "js-yaml";
import { compile, createLogger, loadConfig, type JsonSchema, type PluginDefinition } from "@resourcemonitor/runtime";
import { createAgent, DEFAULT_COLLECTORS } from "resourcemonitor";

const HERE = fileURLToPath(new URL("..", import.meta.url));
const AGENT = join(HERE, "..", "..", "packages", "agent", "bin", "resourcemonitor.js");
const CONFIGS = readdirSync(HERE).filter((name) => name.endsWith(".yaml"));
const ENV = { RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env" };

function agent(args: string[], cwd = HERE): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...ENV };
  delete env.S3_BUCKET_NAME;
  const child = spawn(process.execPath, [AGENT, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

function installed(name: string): boolean {
  try {
    createRequire(join(HERE, "noop.js")).resolve(name);
    return true;
  } catch {
    return false;
  }
}

test("there are the five example configurations", () => {
  assert.deepEqual(CONFIGS.sort(), ["custom-plugin.yaml", "default.yaml", "multi-sink.yaml", "s3-minio.yaml", "s3-r2.yaml"]);
});

const schemaRun = agent(["config", "--schema", "--config", "custom-plugin.yaml"]);

for (const name of CONFIGS) {
  test(`${name} loads through loadConfig, meets \`config --schema\`, and its plugins load with their options`, async () => {
    const file = join(HERE, name);
    const config = await loadConfig({ configFile: file, defaultCollectors: DEFAULT_COLLECTORS, env: ENV, cwd: HERE });
    assert.equal(config.files.config, file);
    assert.ok(config.collectors.length > 0 && config.sinks.length > 0);

    const { code, stdout, stderr } = await schemaRun;
    assert.equal(code, 0, stderr);
    const validate = compile(JSON.parse(stdout) as JsonSchema);
    const raw = parseYaml(await readFile(file, "utf8"));
    assert.ok(validate(raw), `${name}: ${JSON.stringify(validate.errors)}`);

    // The s3 sink is its own package; where it is not installed the file is checked as far as the schema goes.
    const kinds = config.sinks.some((entry) => entry.name === "s3") && !installed("@resourcemonitor/sink-s3") ? (["collector"] as const) : (["collector", "sink"] as const);
    const { loaded } = await createAgent(config, createLogger({ level: "silent" }), [...kinds]);
    assert.equal(loaded.length, config.collectors.length + (kinds.length === 2 ? config.sinks.length : 0));
  });
}

test("`config --schema` offers every installed plugin's options and refuses a wrong one", async () => {
  const { stdout } = await schemaRun;
  const schema = JSON.parse(stdout) as JsonSchema;
  const validate = compile(schema);
  assert.ok(validate({ sinks: [{ name: "prometheus", port: 9100 }], collectors: ["disk", { name: "cpu", perCore: false }] }), JSON.stringify(validate.errors));
  assert.equal(validate({ sinks: [{ name: "prometheus", port: "high" }] }), false, "a wrong option type is caught by the editor");
  assert.equal(validate({ sinks: [{ name: "http" }] }), false, "http needs a url");
  assert.equal(validate({ collectors: [{ name: "disk", rootFs: "/host" }] }), false, "a misspelt option is caught");
  assert.ok(validate({ collectors: ["./my-own-plugin.js", { name: "@acme/resourcemonitor-plugin-fans", speed: 1 }] }), "other plugins stay allowed");
  const described = JSON.stringify(schema);
  assert.match(described, /Regular expression on the \/proc\/diskstats device name/, "the third-party plugin's option descriptions are there");
});

test("`resourcemonitor once` with custom-plugin.yaml loads the third-party plugin by name: `disk` is present and validates", async () => {
  const { code, stdout, stderr } = await agent(["once", "--config", "custom-plugin.yaml"]);
  assert.equal(code, 0, stderr);
  const document = JSON.parse(stdout) as { disk?: { mounts: { mountpoint: string; total: number | null }[]; io: unknown[] } };
  const { default: disk } = (await import("resourcemonitor-plugin-disk")) as { default: PluginDefinition<never> };
  const validate = compile(disk.fragmentSchema as JsonSchema);
  assert.ok(validate(document), JSON.stringify(validate.errors));
  assert.ok(document.disk && document.disk.mounts.length > 0, stdout);
});

test("`resourcemonitor plugins` lists the third-party plugin with its schema", async () => {
  const { code, stdout, stderr } = await agent(["plugins", "--json", "--config", "custom-plugin.yaml"]);
  assert.equal(code, 0, stderr);
  const { plugins } = JSON.parse(stdout) as { plugins: { name: string; kind: string; version: string; from: string; fragmentSchema?: { properties?: Record<string, unknown> } }[] };
  const disk = plugins.find((plugin) => plugin.name === "disk");
  assert.deepEqual({ kind: disk?.kind, version: disk?.version, from: disk?.from }, { kind: "collector", version: "0.1.0", from: "disk" });
  assert.ok(disk?.fragmentSchema?.properties?.disk, "with its fragment schema");
  const text = await agent(["plugins", "--config", "custom-plugin.yaml"]);
  assert.match(text.stdout, /collector +disk 0\.1\.0 \(disk\)\n.*\n +contributes: disk\.mounts, disk\.io/);
});

test("a plugin built for another runtime API version is refused at start with a clear message and exit code 78", async () => {
  const cwd = join(HERE, "test", "fixtures");
  const { code, stdout, stderr } = await agent(["once", "--config", "old-api.yaml"], cwd);
  assert.equal(code, 78, stderr);
  assert.equal(stdout, "");
  assert.match(stderr, /configuration error: .*old-api\.yaml \$\.collectors\[1\]: plugin "\/.*\/old-api-plugin\/index\.mjs" was built for runtime API 0, but this runtime provides API 1; install a version of the plugin built for API 1/);
  assert.doesNotMatch(stderr, /apply must never run/);
});
