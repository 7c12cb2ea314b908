import { readFileSync, statSync } from "node:fs";
import { hostname as systemHostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { cosmiconfig } from "cosmiconfig";
import type { LevelWithSilent } from "pino";
import type { DeliveryOptions } from "./delivery.js";
import { redactSecrets } from "./redact.js";
import { compile, formatErrors } from "./validation.js";
import type { JsonSchema } from "./plugin.js";

/** Exit code for a configuration error (EX_CONFIG from sysexits.h); systemd's RestartPreventExitStatus uses it. */
export const EXIT_CONFIG = 78;
export const DEFAULT_ENV_FILE = "/etc/resourcemonitor/config";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A collector or sink as configured: which plugin, its options, and where the entry came from. */
export interface PluginEntry {
  name: string;
  options: Record<string, unknown>;
  /** Per-plugin timeout in seconds (the entry's `timeout` key). */
  timeout?: number;
  /** For error messages: `<file> $.collectors[2]` or `default preset`. */
  source: string;
}

export interface AgentConfig {
  interval: number;
  hostname: string;
  procfs: string;
  sysfs: string;
  dataDir: string;
  stateDir: string;
  logLevel: LevelWithSilent;
  /** Seconds a collector may take per tick; default half the interval, at most 10. */
  collectTimeout?: number;
  bucket?: string;
  region: string;
  prefix: string;
  collectors: PluginEntry[];
  sinks: PluginEntry[];
  /** AWS_* settings from the KEY=VALUE file (credentials, profile, endpoint), handed to the AWS SDK. */
  aws: Record<string, string>;
  /** The files the configuration was read from. */
  files: { config?: string; env?: string };
  /** Spool limits, retries, shutdown flush and report interval, in the runtime's units (ms). */
  delivery: Partial<DeliveryOptions>;
  /** Things worth a warning that did not stop the load (unknown keys in the KEY=VALUE file, secrets in a file others can read). */
  warnings: string[];
}

const PLUGIN_LIST = {
  type: "array",
  items: {
    anyOf: [
      { type: "string", minLength: 1 },
      {
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", minLength: 1, description: "Short name, package name or path of the plugin." },
          timeout: { type: "number", exclusiveMinimum: 0, description: "Seconds this plugin may take per tick." },
        },
      },
    ],
  },
};

/** The configuration file's schema. */
export const CONFIG_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    interval: { type: "integer", minimum: 1, description: "Seconds between samples (UPLOAD_FREQUENCY_SECONDS). Default 60." },
    hostname: { type: "string", minLength: 1, description: "Name of this host in the store (HOSTNAME_OVERRIDE). Default: the system hostname." },
    procfs: { type: "string", minLength: 1, description: "Root of the proc file system the collectors read. Default /proc." },
    sysfs: { type: "string", minLength: 1, description: "Root of the sys file system the collectors read. Default /sys." },
    dataDir: { type: "string", minLength: 1, description: "Directory of the file sink's store when no bucket is set. Default ./resourcemonitor-data." },
    stateDir: { type: "string", minLength: 1, description: "Directory of the agent's own state. Default <dataDir>/.spool." },
    logLevel: { enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], description: "Least severe level logged. Default info." },
    collectTimeout: { type: "number", exclusiveMinimum: 0, description: "Seconds a collector may take per tick. Default half the interval, at most 10." },
    bucket: { type: "string", minLength: 3, description: "S3 bucket (S3_BUCKET_NAME); when set, the default sink is s3." },
    region: { type: "string", minLength: 1, description: "AWS region of the bucket (AWS_DEFAULT_REGION). Default us-east-1." },
    prefix: { type: "string", description: "Key prefix inside the bucket or directory. Default empty." },
    delivery: {
      type: "object",
      additionalProperties: false,
      description: "How samples reach sinks that fail or are slow: each sink's spool under stateDir, retries, shutdown.",
      properties: {
        spoolMaxBytes: { type: "integer", minimum: 65536, description: "Bytes each sink's spool may take on disk before the oldest samples are dropped. Default 536870912 (512 MiB, a day of 1 s samples of up to 6 KB)." },
        spoolMaxAge: { type: "number", exclusiveMinimum: 0, description: "Seconds a sample may wait in a spool before it is dropped. Default 604800 (7 days)." },
        retryInitial: { type: "number", exclusiveMinimum: 0, description: "Seconds before the first retry of a failing sink; doubles per failure, with jitter. Default 1." },
        retryMax: { type: "number", exclusiveMinimum: 0, description: "Longest pause between retries, in seconds. Default 30." },
        flushTimeout: { type: "number", exclusiveMinimum: 0, description: "Seconds sinks get at shutdown to finish writes in flight; the rest stays spooled. Default 5." },
        reportInterval: { type: "number", exclusiveMinimum: 0, description: "Seconds between the health log lines and between 'still down' lines of a failing sink. Default 300." },
      },
    },
    collectors: { ...PLUGIN_LIST, description: "Collector plugins; default cpu, memory, thermal." },
    sinks: { ...PLUGIN_LIST, description: "Sink plugins; default s3 when a bucket is set, else file." },
  },
};

type Layer = Partial<Record<keyof typeof LAYER_KEYS, unknown>> & Record<string, unknown>;

/** Keys that the KEY=VALUE file, the environment and CLI flags may set, and their config names. */
const LAYER_KEYS = {
  interval: "UPLOAD_FREQUENCY_SECONDS",
  hostname: "HOSTNAME_OVERRIDE",
  bucket: "S3_BUCKET_NAME",
  region: "AWS_DEFAULT_REGION",
  // Not in the original agent: they let a systemd unit or a container place the state and the host's /proc and /sys.
  dataDir: "RESOURCEMONITOR_DATA_DIR",
  stateDir: "RESOURCEMONITOR_STATE_DIR",
  procfs: "RESOURCEMONITOR_PROCFS",
  sysfs: "RESOURCEMONITOR_SYSFS",
  logLevel: "RESOURCEMONITOR_LOG_LEVEL",
} as const;

const validateFile = compile(CONFIG_SCHEMA);

const MODULE_NAME = "resourcemonitor";
/** cosmiconfig's places plus `resourcemonitor.config.{json,yaml,yml}`, which it does not look for by default. */
const SEARCH_PLACES = [
  "package.json",
  ...["", ".json", ".yaml", ".yml", ".js", ".mjs", ".cjs"].map((extension) => `.${MODULE_NAME}rc${extension}`),
  ...["json", "yaml", "yml", "js", "mjs", "cjs"].map((extension) => `${MODULE_NAME}.config.${extension}`),
];

export interface LoadConfigOptions {
  /** `--config FILE`; otherwise cosmiconfig searches `cwd`. */
  configFile?: string;
  /** `--env-file FILE`; otherwise DEFAULT_ENV_FILE when it exists. */
  envFile?: string;
  /** Process environment (default process.env). */
  env?: Record<string, string | undefined>;
  /** CLI flags, already named as config keys (`interval`, `dataDir`, …), strings as typed. */
  flags?: Record<string, string | undefined>;
  cwd?: string;
  /** Collectors when the configuration names none. */
  defaultCollectors: string[];
}

export async function loadConfig(options: LoadConfigOptions): Promise<AgentConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = await readConfigFile(options.configFile, cwd);
  const envFilePath = options.envFile ?? env.RESOURCEMONITOR_ENV_FILE ?? DEFAULT_ENV_FILE;
  // An empty RESOURCEMONITOR_ENV_FILE reads no file: the systemd unit hands the file over as its environment.
  const keyValues = envFilePath === "" ? undefined : readKeyValueFile(envFilePath, options.envFile !== undefined);
  const warnings: string[] = [];

  const fromEnvFile = keyValues ? layerFromKeyValues(keyValues.values, `${keyValues.path}`, true, warnings) : {};
  const fromEnv = layerFromKeyValues(env, "environment variable", false, []);
  const fromFlags = layerFromFlags(options.flags ?? {});

  const merged: Record<string, unknown> = { ...file?.config, ...fromEnvFile, ...fromEnv, ...fromFlags };
  const configDir = file ? dirname(file.path) : cwd;
  const dataDir = resolve(cwd, stringOr(merged.dataDir, "./resourcemonitor-data"));
  const bucket = typeof merged.bucket === "string" && merged.bucket !== "" ? merged.bucket : undefined;
  // AWS_DEFAULT_REGION (the original agent's) wins; AWS_REGION is what the AWS SDK itself reads.
  const region = stringOr(merged.region, stringOr(env.AWS_REGION, stringOr(keyValues?.values.AWS_REGION, "us-east-1")));
  const prefix = stringOr(merged.prefix, "");
  const where = file ? file.path : "default preset";
  const bucketFromOutside = [fromEnvFile, fromEnv, fromFlags].some((layer) => layer.bucket !== undefined);
  return {
    interval: typeof merged.interval === "number" ? merged.interval : 60,
    hostname: stringOr(merged.hostname, systemHostname()),
    procfs: stringOr(merged.procfs, "/proc"),
    sysfs: stringOr(merged.sysfs, "/sys"),
    dataDir,
    stateDir: resolve(cwd, stringOr(merged.stateDir, join(dataDir, ".spool"))),
    logLevel: stringOr(merged.logLevel, "info") as LevelWithSilent,
    collectTimeout: typeof merged.collectTimeout === "number" ? merged.collectTimeout : undefined,
    bucket,
    region,
    prefix,
    collectors: Array.isArray(file?.config.collectors)
      ? toEntries(file.config.collectors, `${where} $.collectors`, configDir)
      : toEntries(options.defaultCollectors, "default preset", configDir),
    sinks: Array.isArray(file?.config.sinks)
      ? withBucket(toEntries(file.config.sinks, `${where} $.sinks`, configDir), bucketFromOutside ? bucket : undefined, region)
      : [bucket ? { name: "s3", options: { bucket, region, prefix }, source: "default preset" } : { name: "file", options: { prefix }, source: "default preset" }],
    aws: keyValues ? pickAws(keyValues.values) : {},
    files: { config: file?.path, env: keyValues?.path },
    delivery: deliveryOptions(file?.config.delivery as Record<string, number> | undefined),
    warnings: [...warnings, ...exposedSecrets(file?.path, file?.config), ...exposedSecrets(keyValues?.path, keyValues?.values)],
  };
}

function deliveryOptions(seconds: Record<string, number> = {}): Partial<DeliveryOptions> {
  const ms = (value: number | undefined) => (value === undefined ? undefined : Math.round(value * 1000));
  const options: Partial<DeliveryOptions> = {
    retryInitialMs: ms(seconds.retryInitial),
    retryMaxMs: ms(seconds.retryMax),
    flushTimeoutMs: ms(seconds.flushTimeout),
    reportEveryMs: ms(seconds.reportInterval),
  };
  const spool = { maxBytes: seconds.spoolMaxBytes, maxAgeMs: ms(seconds.spoolMaxAge) };
  return JSON.parse(JSON.stringify({ ...options, spool })) as Partial<DeliveryOptions>;
}

/** Names of the settings `redactSecrets` would hide, as JSON paths. */
function secretNames(value: unknown, redacted: unknown, path = "$"): string[] {
  if (value === redacted || typeof value !== "object" || value === null) return value === redacted ? [] : [path];
  return Object.entries(value).flatMap(([key, inner]) => secretNames(inner, (redacted as Record<string, unknown>)[key], `${path}.${key}`));
}

/** A warning when a file holding secrets can be read by users other than its owner. */
function exposedSecrets(path: string | undefined, content: unknown): string[] {
  if (!path || content === undefined) return [];
  const names = secretNames(content, redactSecrets(content));
  if (names.length === 0) return [];
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return [];
  }
  if ((mode & 0o077) === 0) return [];
  return [`${path} holds secrets (${names.join(", ")}) but its permissions are ${mode.toString(8).padStart(4, "0")}: other users can read them. Fix: chmod 600 ${path}`];
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

async function readConfigFile(path: string | undefined, cwd: string): Promise<{ path: string; config: Record<string, unknown> } | undefined> {
  const explorer = cosmiconfig(MODULE_NAME, { searchPlaces: SEARCH_PLACES });
  let result;
  try {
    result = path ? await explorer.load(resolve(cwd, path)) : await explorer.search(cwd);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message;
    throw new ConfigError(`cannot read config file ${resolve(cwd, path ?? ".")}: ${reason}`);
  }
  if (!result || result.isEmpty) return result ? { path: result.filepath, config: {} } : undefined;
  const config = result.config as unknown;
  const deep = tooDeep(config);
  if (deep) throw new ConfigError(`${result.filepath}: invalid configuration:\n  ${deep}: nested more than ${MAX_DEPTH} levels deep`);
  if (!validateFile(config)) {
    throw new ConfigError(`${result.filepath}: invalid configuration:\n  ${formatErrors(validateFile.errors).join("\n  ")}`);
  }
  return { path: result.filepath, config: config as Record<string, unknown> };
}

/** Deeper than any real configuration; deeper ones would overflow the stack of every recursive walk (redaction, logging). */
const MAX_DEPTH = 32;

/** The JSON path of the first value nested deeper than MAX_DEPTH, found without recursion. */
function tooDeep(root: unknown): string | undefined {
  const stack: [unknown, string, number][] = [[root, "$", 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop() as [unknown, string, number];
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_DEPTH) return path;
    for (const [key, inner] of Object.entries(value)) stack.push([inner, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1]);
  }
  return undefined;
}

function toEntries(list: unknown[], source: string, configDir: string): PluginEntry[] {
  return list.map((item, index) => {
    const entry = typeof item === "string" ? { name: item } : (item as { name: string; timeout?: number } & Record<string, unknown>);
    const { name, timeout, ...options } = entry;
    const isPath = name.startsWith("./") || name.startsWith("../");
    return {
      name: isPath ? resolve(configDir, name) : name,
      options,
      timeout,
      source: source === "default preset" ? source : `${source}[${index}]`,
    };
  });
}

/** S3_BUCKET_NAME (and the region) from the KEY=VALUE file, the environment or a flag win over an s3 entry's own. */
function withBucket(entries: PluginEntry[], bucket: string | undefined, region: string): PluginEntry[] {
  if (!bucket) return entries;
  return entries.map((entry) => (entry.name === "s3" ? { ...entry, options: { ...entry.options, bucket, region } } : entry));
}

/** Variables the file hands to the environment for the AWS SDK and the s3 sink (not config keys of their own). */
const isForS3 = (key: string) => key.startsWith("AWS_") || key === "S3_FORCE_PATH_STYLE";

function pickAws(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => isForS3(key) && key !== "AWS_DEFAULT_REGION"));
}

/** Maps the original agent's variables onto config keys, checking each value; errors name the variable and source. */
function layerFromKeyValues(values: Record<string, string | undefined>, source: string, isFile: boolean, warnings: string[]): Layer {
  const layer: Layer = {};
  for (const [key, variable] of Object.entries(LAYER_KEYS)) {
    const value = values[variable];
    if (value !== undefined && value !== "") layer[key] = value;
  }
  // HOSTNAME counts only inside the file: shells and containers set it in every environment.
  if (isFile && layer.hostname === undefined && values.HOSTNAME) layer.hostname = values.HOSTNAME;
  if (isFile) {
    const known = new Set<string>([...Object.values(LAYER_KEYS), "HOSTNAME"]);
    const unknown = Object.keys(values).filter((key) => !known.has(key) && !isForS3(key));
    if (unknown.length > 0) warnings.push(`${source}: ignored unknown keys ${unknown.join(", ")}`);
  }
  return checkLayer(layer, (key) => `${isFile ? `${source}: ` : `${source} `}${key === "hostname" && isFile && !values.HOSTNAME_OVERRIDE ? "HOSTNAME" : LAYER_KEYS[key as keyof typeof LAYER_KEYS]}`);
}

const FLAG_NAMES: Record<string, string> = {
  interval: "--interval",
  hostname: "--hostname",
  bucket: "--bucket",
  region: "--region",
  prefix: "--prefix",
  dataDir: "--data-dir",
  stateDir: "--state-dir",
  procfs: "--procfs",
  sysfs: "--sysfs",
  logLevel: "--log-level",
};

function layerFromFlags(flags: Record<string, string | undefined>): Layer {
  const layer: Layer = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  return checkLayer(layer, (key) => `option ${FLAG_NAMES[key] ?? key}`);
}

/** Converts numeric strings and validates the layer against the config schema. */
function checkLayer(layer: Layer, describe: (key: string) => string): Layer {
  if (typeof layer.interval === "string" && /^\s*\d+\s*$/.test(layer.interval)) layer.interval = Number(layer.interval);
  if (validateFile(layer)) return layer;
  const problems = (validateFile.errors ?? []).map((error) => {
    const key = error.instancePath.split("/")[1] ?? "";
    const value = layer[key];
    return `${describe(key)}=${JSON.stringify(value)}: ${formatErrors([error])[0]?.replace(/^\$\.\w+: /, "")}`;
  });
  throw new ConfigError(problems.join("\n"));
}

export interface KeyValueFile {
  path: string;
  values: Record<string, string>;
}

/** Reads the original agent's KEY=VALUE file. A missing default file is fine; a missing named one is an error. */
export function readKeyValueFile(path: string, required: boolean): KeyValueFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    const reason = code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied (run as root, or pass --env-file)" : (error as Error).message;
    throw new ConfigError(`cannot read ${path}: ${reason}`);
  }
  return { path, values: parseKeyValues(text, path) };
}

const KEY_VALUE_LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Parses `KEY=VALUE` lines as python-dotenv does: comments, blank lines, `export`, quotes, inline ` #` comments. */
export function parseKeyValues(text: string, path: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = KEY_VALUE_LINE.exec(line);
    if (!match) {
      // Show only what precedes the first space or '=': the rest may be a secret.
      const start = line.split(/[\s=]/)[0]?.slice(0, 40) ?? "";
      throw new ConfigError(`${path}:${index + 1}: expected KEY=VALUE, got a line starting "${start}"`);
    }
    values[match[1] as string] = unquote(match[2] as string, `${path}:${index + 1}`);
  });
  return values;
}

function unquote(value: string, where: string): string {
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    if (end < 0) throw new ConfigError(`${where}: unterminated ${quote} quote`);
    const inner = value.slice(1, end);
    return quote === '"' ? inner.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1") : inner;
  }
  return value.replace(/\s+#.*$/, "").trim();
}
