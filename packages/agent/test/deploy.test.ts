import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, parseKeyValues } from "@resourcemonitor/runtime";
import { startS3Server, type S3TestServer } from "@resourcemonitor/s3-test-server";
import { createS3Client, createS3Store, resolveOptions } from "@resourcemonitor/sink-s3";
import { tempDir, waitFor, type Finished } from "./cli-helpers.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(REPO, "deploy");
const UNIT = join(DEPLOY, "systemd", "resourcemonitor.service");

/** The environment of a shell an operator would have: no npm script variables, no real config. */
function operatorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && !/^(S3_BUCKET_NAME|UPLOAD_FREQUENCY_SECONDS|HOSTNAME_OVERRIDE|AWS_.*)$/.test(key)));
  return { ...env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env", ...extra };
}

function run(command: string, args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: operatorEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** Every path under `root` with its modification time, to prove a second install touched nothing. */
async function snapshot(root: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const entry of await readdir(root, { recursive: true })) times.set(entry, (await lstat(join(root, entry))).mtimeMs);
  return times;
}

/** The original agent's configuration file, as its README writes it. */
const ORIGINAL_CONFIG = `# Required: S3 bucket name (standard S3 bucket)
S3_BUCKET_NAME=my-monitoring-data

# Optional: Upload frequency in seconds (default: 60)
UPLOAD_FREQUENCY_SECONDS=1

# Optional: Custom hostname (default: system hostname)
HOSTNAME=server01

# Optional: AWS region
AWS_DEFAULT_REGION=us-east-1

# Optional: AWS credentials (not needed if using IAM roles)
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY=deploy-test-secret
`;

const BUCKET = "my-monitoring-data";

/** The original file pointed at the local S3 server, as an operator of an S3-compatible store would write it. */
const originalConfigFor = (server: S3TestServer) => `${ORIGINAL_CONFIG}AWS_ENDPOINT_URL_S3=${server.endpoint}\nS3_FORCE_PATH_STYLE=true\n`;

/** The test's own S3 client reads the bucket with the same (fake) credentials the agent uses. */
function bucketStore(server: S3TestServer) {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "deploy-test-secret", AWS_EC2_METADATA_DISABLED: "true" });
  const options = resolveOptions({ bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true }, {});
  return createS3Store(createS3Client(options), options);
}

test("install.sh into a temporary root: production dependencies only, idempotent, the installed agent writes to S3, --uninstall and --purge", { timeout: 180_000 }, async () => {
  const root = await tempDir("rm-install-");
  const install = (...args: string[]) => run("bash", [join(DEPLOY, "install.sh"), "--root", root, "--no-build", ...args]);

  const first = await install();
  assert.equal(first.code, 0, first.stderr);
  const prefix = join(root, "opt", "resourcemonitor");
  assert.match(first.stdout, /skipped \(--root\): creating the system user resourcemonitor/);
  assert.match(first.stdout, /Next steps:[\s\S]*systemctl enable --now resourcemonitor/);
  assert.equal(await exists(join(prefix, "node_modules", "resourcemonitor", "dist", "src", "cli.js")), true);
  for (const devOnly of ["typescript", "tsx", "eslint", "@types/node"]) {
    assert.equal(await exists(join(prefix, "node_modules", devOnly)), false, `${devOnly} is a dev dependency and must not be installed`);
  }
  assert.equal(await readFile(join(root, "etc", "systemd", "system", "resourcemonitor.service"), "utf8"), await readFile(UNIT, "utf8"));
  assert.equal(await readlink(join(root, "usr", "local", "bin", "resourcemonitor")), "/opt/resourcemonitor/bin/resourcemonitor");
  const template = join(root, "etc", "resourcemonitor", "config");
  assert.equal((await stat(template)).mode & 0o777, 0o600);

  const before = await snapshot(root);
  const second = await install();
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /unchanged/);
  assert.match(second.stdout, /kept the existing .*etc\/resourcemonitor\/config/);
  assert.deepEqual(await snapshot(root), before, "a second install must change nothing");

  // As the unit starts it: the file's variables in the environment (EnvironmentFile=), the file itself
  // for the agent to read (LoadCredential=, RESOURCEMONITOR_ENV_FILE), the state under StateDirectory=.
  const server = await startS3Server({ buckets: [BUCKET] });
  const work = await tempDir("rm-installed-run-");
  const config = join(work, "config");
  await writeFile(config, originalConfigFor(server), { mode: 0o600 });
  const unitEnv = { ...parseKeyValues(originalConfigFor(server), config), RESOURCEMONITOR_ENV_FILE: config, RESOURCEMONITOR_STATE_DIR: join(work, "spool"), RESOURCEMONITOR_DATA_DIR: join(work, "store"), AWS_EC2_METADATA_DISABLED: "true" };
  const agentBin = join(prefix, "bin", "resourcemonitor");
  const agent = spawn(agentBin, ["run", "--log-level", "warn"], { cwd: work, env: operatorEnv(unitEnv), stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<number | null>((resolve) => agent.on("close", resolve));
  let agentLog = "";
  agent.stderr.on("data", (chunk: Buffer) => (agentLog += chunk.toString()));
  try {
    const store = bucketStore(server);
    // list.json is written last (history, then latest, then the list): once it exists, the sample is complete.
    const list = await waitFor(async () => ((object) => object && (JSON.parse(object.body) as object))(await store.get("list.json")), 20_000, "list.json in the bucket from the installed agent");
    assert.deepEqual(Object.keys(list), ["server01"], "HOSTNAME= inside the original file names the host");
    const latest = JSON.parse((await store.get("server01.json"))?.body ?? "{}") as { hostname?: string };
    assert.equal(latest.hostname, "server01");
    const status = await run(agentBin, ["status"], { env: unitEnv });
    assert.equal(status.code, 0, `resourcemonitor status, the container's healthcheck: ${status.stdout}${status.stderr}`);
  } finally {
    agent.kill("SIGTERM");
  }
  assert.equal(await exited, 0, agentLog);
  assert.doesNotMatch(agentLog, /deploy-test-secret/);
  await server.close();

  const uninstall = await install("--uninstall");
  assert.equal(uninstall.code, 0, uninstall.stderr);
  assert.equal(await exists(prefix), false);
  assert.equal(await exists(join(root, "etc", "systemd", "system", "resourcemonitor.service")), false);
  assert.equal(await exists(join(root, "usr", "local", "bin", "resourcemonitor")), false);
  assert.equal(await exists(template), true, "--uninstall keeps the configuration");
  const purge = await install("--purge");
  assert.equal(purge.code, 0, purge.stderr);
  assert.equal(await exists(template), false);
});

const setupConfig = (args: string[], input?: string) => run("bash", [join(DEPLOY, "setup-config.sh"), ...args], { input });

async function readBack(path: string) {
  return loadConfig({ envFile: path, env: {}, defaultCollectors: [], cwd: await tempDir("rm-setup-cwd-") });
}

test("setup-config.sh with flags writes the original KEY=VALUE file, mode 0600, that the agent reads back", async () => {
  const config = join(await tempDir("rm-setup-"), "etc", "config");
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const result = await setupConfig(["--config", config, "--bucket", "my-monitoring-data", "--region", "eu-west-1", "--interval", "30", "--hostname", "server01", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--secret-access-key", secret]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(secret), "the secret key is never printed");
  const info = await stat(config);
  assert.equal(info.mode & 0o777, 0o600);
  if (process.getuid?.() === 0) assert.equal(info.uid, 0);
  const text = await readFile(config, "utf8");
  for (const line of ["S3_BUCKET_NAME=my-monitoring-data", "AWS_DEFAULT_REGION=eu-west-1", "UPLOAD_FREQUENCY_SECONDS=30", "HOSTNAME_OVERRIDE=server01", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", `AWS_SECRET_ACCESS_KEY=${secret}`]) {
    assert.match(text, new RegExp(`^${line.replace(/[/+]/g, "\\$&")}$`, "m"));
  }
  const loaded = await readBack(config);
  assert.deepEqual([loaded.bucket, loaded.region, loaded.interval, loaded.hostname, loaded.aws.AWS_SECRET_ACCESS_KEY], ["my-monitoring-data", "eu-west-1", 30, "server01", secret]);
});

test("setup-config.sh refuses a bad bucket name or interval and writes nothing", async () => {
  const config = join(await tempDir("rm-setup-bad-"), "config");
  for (const [flags, message] of [
    [["--bucket", "My_Bucket"], /bucket name "My_Bucket": only lowercase letters, digits, dots and hyphens/],
    [["--bucket", "ab"], /bucket name "ab": must be 3 to 63 characters long/],
    [["--bucket", "192.168.1.10"], /must not look like an IP address/],
    [["--bucket", "my..bucket"], /no two dots in a row/],
    [["--bucket", "fine-bucket", "--interval", "0"], /interval "0": must be a whole number of seconds from 1 to 86400/],
    [["--bucket", "fine-bucket", "--interval", "1m"], /interval "1m"/],
    [["--bucket", "fine-bucket", "--hostname", "../etc"], /hostname "..\/etc": must not contain/],
  ] as const) {
    const result = await setupConfig(["--config", config, ...flags]);
    assert.equal(result.code, 64, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(await exists(config), false);
  }
});

test("setup-config.sh interactively: asks again after a bad answer, keeps current values and other keys on a second run", async () => {
  const directory = await tempDir("rm-setup-ask-");
  const config = join(directory, "config");
  // bucket (bad, then good), region (default), interval, hostname, access key ID (none), endpoint (none)
  const first = await setupConfig(["--config", config], "Bad_Bucket\nmy-monitoring-data\n\n15\nserver02\n\n\n");
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /S3 bucket name: +only lowercase letters/);
  assert.match(first.stderr, /Seconds between samples/);
  const loaded = await readBack(config);
  assert.deepEqual([loaded.bucket, loaded.region, loaded.interval, loaded.hostname], ["my-monitoring-data", "us-east-1", 15, "server02"]);
  assert.equal((await stat(config)).mode & 0o777, 0o600);

  await writeFile(config, `${await readFile(config, "utf8")}AWS_PROFILE=monitoring\n`);
  const second = await setupConfig(["--config", config], "\n\n60\n\n\n\n");
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /S3 bucket name \[my-monitoring-data\]/);
  const text = await readFile(config, "utf8");
  assert.match(text, /^UPLOAD_FREQUENCY_SECONDS=60$/m);
  assert.match(text, /^HOSTNAME_OVERRIDE=server02$/m);
  assert.match(text, /^AWS_PROFILE=monitoring$/m);
  assert.match(await readFile(`${config}.bak`, "utf8"), /^UPLOAD_FREQUENCY_SECONDS=15$/m);

  const ended = await setupConfig(["--config", join(directory, "other")], "");
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /no answer for "S3 bucket name" \(end of input\)/);
});

test("setup-config.sh --test: one sample, then a probe object written to the bucket and read back; a missing bucket fails", async () => {
  const server = await startS3Server({ buckets: [BUCKET] });
  try {
    const config = join(await tempDir("rm-setup-test-"), "config");
    const flags = ["--config", config, "--hostname", "server01", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--secret-access-key", "deploy-test-secret", "--endpoint", server.endpoint];
    const checked = await setupConfig([...flags, "--bucket", BUCKET, "--test"]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /resourcemonitor(\.js)? once --env-file/);
    assert.match(checked.stdout, new RegExp(`ok: wrote and read back s3://${BUCKET}/\\.resourcemonitor/setup-check-server01 at ${server.endpoint}`));
    assert.equal(server.objectInfo(BUCKET, ".resourcemonitor/setup-check-server01")?.contentType, "application/json");
    assert.match(await readFile(config, "utf8"), /^S3_FORCE_PATH_STYLE=true$/m);

    const wrongBucket = await setupConfig([...flags, "--bucket", "no-such-bucket", "--test"]);
    assert.equal(wrongBucket.code, 1);
    assert.match(wrongBucket.stderr, /s3-probe: s3:\/\/no-such-bucket\/.*NoSuchBucket|s3-probe: s3:\/\/no-such-bucket\/.*(bucket|exist)/i);
    assert.doesNotMatch(wrongBucket.stdout + wrongBucket.stderr, /deploy-test-secret/);
  } finally {
    await server.close();
  }
});

test("shellcheck passes on every deploy script and .ci/run", async () => {
  const scripts = (await readdir(DEPLOY, { recursive: true })).filter((name) => name.endsWith(".sh")).map((name) => join(DEPLOY, name));
  assert.ok(scripts.length >= 3, `found ${scripts.join(", ")}`);
  const result = await run("shellcheck", ["--severity=style", ...scripts, join(REPO, ".ci", "run")]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test("the systemd unit: systemd-analyze verify is clean and the security exposure is at most 1.5", async () => {
  // verify checks that ExecStart exists: point it at a stand-in executable.
  const directory = await tempDir("rm-unit-");
  await mkdir(join(directory, "bin"));
  await writeFile(join(directory, "bin", "resourcemonitor"), "#!/bin/sh\n", { mode: 0o755 });
  const unit = join(directory, "resourcemonitor.service");
  await writeFile(unit, (await readFile(UNIT, "utf8")).replaceAll("/opt/resourcemonitor", directory));

  const verify = await run("systemd-analyze", ["verify", unit]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), "", "no warnings");
  const security = await run("systemd-analyze", ["security", "--offline=yes", "--threshold=15", unit]);
  assert.equal(security.code, 0, security.stdout);
  const score = Number(/Overall exposure level for resourcemonitor\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
  assert.ok(score <= 1.5, `exposure ${score}`);

  const text = await readFile(UNIT, "utf8");
  for (const line of ["EnvironmentFile=-/etc/resourcemonitor/config", "StateDirectory=resourcemonitor", "Restart=on-failure", "RestartPreventExitStatus=78", "User=resourcemonitor", "ProtectSystem=strict", "DevicePolicy=closed"]) {
    assert.match(text, new RegExp(`^${line}$`, "m"));
  }
});

/** `docker compose` when the plugin is there, else the standalone docker-compose; both parse without an engine. */
async function compose(): Promise<string[]> {
  const plugin = await run("docker", ["compose", "version"]).catch(() => undefined);
  return plugin?.code === 0 ? ["docker", "compose"] : ["docker-compose"];
}

test("docker compose config accepts both compose files: env file, host /proc and /sys read-only as the collectors' roots, NVIDIA runtime", async () => {
  const envFile = join(await tempDir("rm-compose-"), "config");
  await writeFile(envFile, ORIGINAL_CONFIG);
  const [command, ...base] = await compose();
  const render = (file: string) => run(command as string, [...base, "-f", join(DEPLOY, "docker", file), "config"], { env: { RESOURCEMONITOR_CONFIG: envFile } });

  const plain = await render("docker-compose.yml");
  assert.equal(plain.code, 0, plain.stderr);
  for (const expected of [/S3_BUCKET_NAME: my-monitoring-data/, /RESOURCEMONITOR_PROCFS: \/host\/proc/, /RESOURCEMONITOR_SYSFS: \/host\/sys/, /\/proc:\/host\/proc:ro|source: \/proc[\s\S]*?target: \/host\/proc[\s\S]*?read_only: true/, /network_mode: host/]) {
    assert.match(plain.stdout, expected);
  }
  assert.doesNotMatch(plain.stdout, /runtime: nvidia/);

  const gpu = await render("docker-compose.gpu.yml");
  assert.equal(gpu.code, 0, gpu.stderr);
  for (const expected of [/runtime: nvidia/, /NVIDIA_VISIBLE_DEVICES: all/, /NVIDIA_DRIVER_CAPABILITIES: utility/, /RESOURCEMONITOR_PROCFS: \/host\/proc/, /S3_BUCKET_NAME: my-monitoring-data/]) {
    assert.match(gpu.stdout, expected);
  }

  const missing = await run(command as string, [...base, "-f", join(DEPLOY, "docker", "docker-compose.yml"), "config"], { env: { RESOURCEMONITOR_CONFIG: join(envFile, "..", "absent") } });
  assert.notEqual(missing.code, 0, "a missing env file is an error, not an unconfigured container");
});

test("install-docker.sh says clearly when no Docker engine can be reached", async () => {
  const result = await run("bash", [join(DEPLOY, "install-docker.sh")], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Docker (engine|is not installed)/);
});
