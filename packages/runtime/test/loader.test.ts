import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlugin, packageNamesFor, PluginLoadError, RUNTIME_API_VERSION } from "../src/index.js";

/** Writes node_modules/<name>/ with a package.json and an index.mjs exporting a plugin definition. */
async function installFake(root: string, name: string, definition: string): Promise<void> {
  const folder = join(root, "node_modules", name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "package.json"), JSON.stringify({ name, version: "1.0.0", type: "module", exports: "./index.mjs" }));
  await writeFile(join(folder, "index.mjs"), `export default ${definition};`);
}

const plugin = (fields: string) => `{ name: "x", description: "", optionsSchema: {}, apply() {}, ${fields} }`;

async function withRoot(work: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "rm-loader-names-"));
  try {
    await work(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test("a short name stands for the first-party package, then the resourcemonitor-plugin-/-sink- convention", () => {
  assert.deepEqual(packageNamesFor("collector", "disk"), ["@resourcemonitor/plugin-disk", "resourcemonitor-plugin-disk"]);
  assert.deepEqual(packageNamesFor("sink", "kafka"), ["@resourcemonitor/sink-kafka", "resourcemonitor-sink-kafka"]);
  assert.deepEqual(packageNamesFor("sink", "resourcemonitor-sink-kafka"), ["resourcemonitor-sink-kafka"]);
  assert.deepEqual(packageNamesFor("collector", "@acme/resourcemonitor-plugin-fans"), ["@acme/resourcemonitor-plugin-fans"]);
});

test("third-party packages are found by short name and by full name", () =>
  withRoot(async (root) => {
    await installFake(root, "resourcemonitor-plugin-fans", plugin(`apiVersion: ${RUNTIME_API_VERSION}, kind: "collector", name: "fans"`));
    await installFake(root, "resourcemonitor-sink-kafka", plugin(`apiVersion: ${RUNTIME_API_VERSION}, kind: "sink", name: "kafka"`));
    assert.equal((await loadPlugin("collector", "fans", [root])).name, "fans");
    assert.equal((await loadPlugin("collector", "resourcemonitor-plugin-fans", [root])).name, "fans");
    assert.equal((await loadPlugin("sink", "kafka", [root])).name, "kafka");
    await assert.rejects(loadPlugin("sink", "fans", [root]), /no package @resourcemonitor\/sink-fans or resourcemonitor-sink-fans under/);
  }));

test("a plugin built against another runtime API version is refused at load, with a message saying what to do", () =>
  withRoot(async (root) => {
    await installFake(root, "resourcemonitor-plugin-old", plugin(`apiVersion: 0, kind: "collector"`));
    await installFake(root, "resourcemonitor-plugin-new", plugin(`apiVersion: ${RUNTIME_API_VERSION + 1}, kind: "collector"`));
    await installFake(root, "resourcemonitor-plugin-none", plugin(`kind: "collector"`));
    await assert.rejects(loadPlugin("collector", "old", [root]), (error: unknown) => {
      assert.ok(error instanceof PluginLoadError);
      assert.match(error.message, /^plugin "old" \(.*resourcemonitor-plugin-old\/index\.mjs\) was built for runtime API 0, but this runtime provides API 1; install a version of the plugin built for API 1/);
      return true;
    });
    await assert.rejects(loadPlugin("collector", "new", [root]), /was built for runtime API 2, but this runtime provides API 1; upgrade resourcemonitor/);
    await assert.rejects(loadPlugin("collector", "none", [root]), /plugin "none" \(.*\) declares no apiVersion, but this runtime provides API 1/);
  }));
