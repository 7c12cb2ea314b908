import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseKeyValues, type LoadConfigOptions } from "../src/index.js";

const NO_ENV_FILE = join(tmpdir(), "resourcemonitor-no-such-env-file");

async function directoryWith(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "rm-config-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
  return directory;
}

function load(cwd: string, options: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ cwd, env: { RESOURCEMONITOR_ENV_FILE: NO_ENV_FILE }, defaultCollectors: ["cpu", "memory", "thermal"], ...options, envFile: options.envFile });
}

test("defaults: 60 s, system hostname, local file store, default collectors", async () => {
  const cwd = await directoryWith({});
  const loaded = await load(cwd);
  assert.equal(loaded.interval, 60);
  assert.equal(loaded.hostname, hostname());
  assert.equal(loaded.dataDir, join(cwd, "resourcemonitor-data"));
  assert.equal(loaded.stateDir, join(cwd, "resourcemonitor-data", ".spool"));
  assert.equal(loaded.region, "us-east-1");
  assert.deepEqual(loaded.collectors.map((entry) => entry.name), ["cpu", "memory", "thermal"]);
  assert.deepEqual(loaded.sinks, [{ name: "file", options: { prefix: "" }, source: "default preset" }]);
});

test("precedence: defaults < config file < KEY=VALUE file < environment < flags", async () => {
  const cwd = await directoryWith({
    "resourcemonitor.config.json": JSON.stringify({ interval: 10, hostname: "from-file", region: "eu-west-1", logLevel: "debug" }),
    env: "UPLOAD_FREQUENCY_SECONDS=20\nHOSTNAME=from-env-file\nAWS_DEFAULT_REGION=eu-central-1\n",
  });
  const envFile = join(cwd, "env");
  assert.equal((await load(cwd)).interval, 10);
  const withFile = await load(cwd, { envFile });
  assert.deepEqual([withFile.interval, withFile.hostname, withFile.region, withFile.logLevel], [20, "from-env-file", "eu-central-1", "debug"]);
  const withEnv = await load(cwd, { envFile, env: { UPLOAD_FREQUENCY_SECONDS: "30", HOSTNAME_OVERRIDE: "from-env", HOSTNAME: "ignored-shell-value" } });
  assert.deepEqual([withEnv.interval, withEnv.hostname, withEnv.region], [30, "from-env", "eu-central-1"]);
  const withFlags = await load(cwd, { envFile, env: { UPLOAD_FREQUENCY_SECONDS: "30" }, flags: { interval: "40", hostname: "from-flag" } });
  assert.deepEqual([withFlags.interval, withFlags.hostname], [40, "from-flag"]);
});

test("HOSTNAME from the process environment is never used; HOSTNAME_OVERRIDE beats HOSTNAME in the file", async () => {
  const cwd = await directoryWith({ env: "HOSTNAME=file-host\nHOSTNAME_OVERRIDE=override-host\n" });
  assert.equal((await load(cwd, { env: { HOSTNAME: "container-id" } })).hostname, hostname());
  assert.equal((await load(cwd, { envFile: join(cwd, "env") })).hostname, "override-host");
});

test("RESOURCEMONITOR_* variables place the store, the state, /proc, /sys and the log level; an empty RESOURCEMONITOR_ENV_FILE reads no file", async () => {
  const cwd = await directoryWith({});
  const env = {
    RESOURCEMONITOR_ENV_FILE: "",
    RESOURCEMONITOR_DATA_DIR: "/var/lib/resourcemonitor/store",
    RESOURCEMONITOR_STATE_DIR: "/var/lib/resourcemonitor",
    RESOURCEMONITOR_PROCFS: "/host/proc",
    RESOURCEMONITOR_SYSFS: "/host/sys",
    RESOURCEMONITOR_LOG_LEVEL: "warn",
  };
  const loaded = await loadConfig({ cwd, env, defaultCollectors: ["cpu"] });
  assert.deepEqual(
    [loaded.dataDir, loaded.stateDir, loaded.procfs, loaded.sysfs, loaded.logLevel, loaded.files.env],
    ["/var/lib/resourcemonitor/store", "/var/lib/resourcemonitor", "/host/proc", "/host/sys", "warn", undefined],
  );
  await assert.rejects(loadConfig({ cwd, env: { ...env, RESOURCEMONITOR_LOG_LEVEL: "loud" }, defaultCollectors: [] }), /RESOURCEMONITOR_LOG_LEVEL="loud"/);
});

test("S3_BUCKET_NAME switches the default sink to s3 and fills explicit s3 entries", async () => {
  const cwd = await directoryWith({ "rm.yaml": "sinks:\n  - { name: s3, bucket: from-file }\n  - file\n" });
  const preset = await load(cwd, { env: { S3_BUCKET_NAME: "my-monitoring-data", AWS_DEFAULT_REGION: "us-west-2" } });
  assert.deepEqual(preset.sinks, [{ name: "s3", options: { bucket: "my-monitoring-data", region: "us-west-2", prefix: "" }, source: "default preset" }]);
  const explicit = await load(cwd, { configFile: "rm.yaml", env: { S3_BUCKET_NAME: "env-bucket" } });
  assert.deepEqual(explicit.sinks.map((entry) => [entry.name, entry.options.bucket]), [["s3", "env-bucket"], ["file", undefined]]);
  const fileOnly = await load(cwd, { configFile: "rm.yaml" });
  assert.equal(fileOnly.sinks[0]?.options.bucket, "from-file");
});

test("plugin entries: names, options, timeouts and paths relative to the config file", async () => {
  const cwd = await directoryWith({
    "resourcemonitor.config.yaml": "collectors:\n  - cpu\n  - { name: thermal, chips: [coretemp], timeout: 2 }\n  - ./my-plugin.mjs\n",
  });
  const config = await load(cwd);
  assert.deepEqual(config.collectors[1], { name: "thermal", options: { chips: ["coretemp"] }, timeout: 2, source: `${join(cwd, "resourcemonitor.config.yaml")} $.collectors[1]` });
  assert.equal(config.collectors[2]?.name, join(cwd, "my-plugin.mjs"));
});

test("the AWS_* keys of the KEY=VALUE file are kept for the SDK; unknown keys are warned about", async () => {
  const cwd = await directoryWith({ env: "S3_BUCKET_NAME=b-1\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=s3cr3t\nFOO=1\n" });
  await chmod(join(cwd, "env"), 0o644);
  const config = await load(cwd, { envFile: join(cwd, "env") });
  assert.deepEqual(config.aws, { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s3cr3t" });
  const env = join(cwd, "env");
  assert.deepEqual(config.warnings, [
    `${env}: ignored unknown keys FOO`,
    `${env} holds secrets ($.AWS_ACCESS_KEY_ID, $.AWS_SECRET_ACCESS_KEY) but its permissions are 0644: other users can read them. Fix: chmod 600 ${env}`,
  ]);
  await chmod(env, 0o600);
  assert.deepEqual((await load(cwd, { envFile: env })).warnings, [`${env}: ignored unknown keys FOO`], "no warning once only the owner can read it");
});

test("KEY=VALUE parsing follows python-dotenv: comments, export, quotes, inline comments", () => {
  assert.deepEqual(
    parseKeyValues('# c\n\nexport A=1\nB="two words"\nC=\'x # y\'\nD=plain # comment\nE=\nF = spaced\n', "f"),
    { A: "1", B: "two words", C: "x # y", D: "plain", E: "", F: "spaced" },
  );
});

const ERRORS: [string, Record<string, string>, Partial<LoadConfigOptions>, (cwd: string) => string][] = [
  ["a bad type in the config file", { "resourcemonitor.config.json": '{"interval":"fast"}' }, {}, (cwd) => `${join(cwd, "resourcemonitor.config.json")}: invalid configuration:\n  $.interval: must be integer`],
  ["an interval below 1", { "resourcemonitor.config.json": '{"interval":0}' }, {}, (cwd) => `${join(cwd, "resourcemonitor.config.json")}: invalid configuration:\n  $.interval: must be >= 1`],
  ["an unknown key", { ".resourcemonitorrc.yaml": "intervall: 5\n" }, {}, (cwd) => `${join(cwd, ".resourcemonitorrc.yaml")}: invalid configuration:\n  $: unknown property "intervall"`],
  ["a bad plugin entry", { "resourcemonitor.config.json": '{"collectors":[{"chips":[]}]}' }, {}, (cwd) => `${join(cwd, "resourcemonitor.config.json")}: invalid configuration:\n  $.collectors[0]: must be string\n  $.collectors[0]: must have required property 'name'\n  $.collectors[0]: must match a schema in anyOf`],
  ["an unparsable YAML file", { "resourcemonitor.config.yaml": "interval: [\n" }, {}, () => "cannot read config file"],
  ["a missing --config file", {}, { configFile: "nope.yaml" }, (cwd) => `cannot read config file ${join(cwd, "nope.yaml")}: file not found`],
  ["a missing --env-file", {}, { envFile: "/nonexistent/env" }, () => "cannot read /nonexistent/env: file not found"],
  ["a bad KEY=VALUE line", { env: "S3_BUCKET_NAME=b-1\nAWS_SECRET_ACCESS_KEY wJalrXUtnFEMI\n" }, { envFile: "env" }, () => `env:2: expected KEY=VALUE, got a line starting "AWS_SECRET_ACCESS_KEY"`],
  ["a non-numeric interval in the KEY=VALUE file", { env: "UPLOAD_FREQUENCY_SECONDS=often\n" }, { envFile: "env" }, () => `env: UPLOAD_FREQUENCY_SECONDS="often": must be integer`],
  ["a non-numeric interval in the environment", {}, { env: { UPLOAD_FREQUENCY_SECONDS: "1.5" } }, () => `environment variable UPLOAD_FREQUENCY_SECONDS="1.5": must be integer`],
  ["a bad flag", {}, { flags: { interval: "0" } }, () => `option --interval=0: must be >= 1`],
];

for (const [label, files, options, expected] of ERRORS) {
  test(`config error: ${label}`, async () => {
    const cwd = await directoryWith(files);
    const resolved = { ...options, envFile: options.envFile && !options.envFile.startsWith("/") ? join(cwd, options.envFile) : options.envFile };
    const error = await load(cwd, { ...resolved, env: { RESOURCEMONITOR_ENV_FILE: NO_ENV_FILE, ...options.env } }).then(
      () => assert.fail("expected a ConfigError"),
      (caught: Error) => caught,
    );
    assert.equal(error.name, "ConfigError");
    const message = expected(cwd).replace(/^env:/, `${join(cwd, "env")}:`);
    if (label.includes("YAML")) assert.ok(error.message.startsWith(message), error.message);
    else assert.equal(error.message, message);
    assert.ok(!error.message.includes("wJalr"), "a secret leaked into the message");
  });
}

test("config error: a KEY=VALUE path that cannot be read as a file names the path", async () => {
  const cwd = await directoryWith({});
  await assert.rejects(load(cwd, { envFile: cwd }), (error: Error) => error.name === "ConfigError" && error.message.startsWith(`cannot read ${cwd}: EISDIR`));
});

test("a config file with secrets that others can read gets a warning naming the file, the settings and the fix, never the values", async () => {
  const cwd = await directoryWith({ "resourcemonitor.config.yaml": "sinks:\n  - { name: http, url: 'https://user:hunter2@example.com/in', headers: { x-api-key: k3y } }\n  - { name: s3, bucket: b-1, secretAccessKey: s3cr3t }\n" });
  const file = join(cwd, "resourcemonitor.config.yaml");
  await chmod(file, 0o640);
  const { warnings } = await load(cwd);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", new RegExp(`^${file} holds secrets \\(.*\\$\\.sinks\\.1\\.secretAccessKey\\) but its permissions are 0640: other users can read them\\. Fix: chmod 600 ${file}$`));
  assert.doesNotMatch(warnings[0] ?? "", /hunter2|k3y|s3cr3t/);
  await chmod(file, 0o600);
  assert.deepEqual((await load(cwd)).warnings, []);
  await writeFile(join(cwd, "resourcemonitor.config.yaml"), "interval: 5\n");
  await chmod(file, 0o666);
  assert.deepEqual((await load(cwd)).warnings, [], "no secrets, no warning");
});
