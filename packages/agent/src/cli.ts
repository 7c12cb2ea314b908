import { parseArgs } from "node:util";
import {
  ConfigError,
  createLogger,
  EXIT_CONFIG,
  loadConfig,
  redactSecrets,
  type AgentConfig,
  type Logger,
} from "@resourcemonitor/runtime";
import { createAgent, type AgentParts } from "./agent.js";
import { AgentRunner } from "./runner.js";
import { claimStateDir } from "./state-lock.js";
import { formatStatus, isDegraded, isRunning, readStatus, statusPath, type AgentStatus } from "./status.js";
import { serveDashboard, parsePort } from "./dashboard-command.js";
import { describePlugins } from "./describe.js";
import { fullConfigSchema, offeredPlugins } from "./config-schema.js";
import { DEFAULT_COLLECTORS } from "./preset.js";
import { VERSION } from "./version.js";

const EXIT_USAGE = 64;
/** How long shutdown may take (tick in flight, the sinks' flush deadline, the plugins' stop) before the process gives up. */
const STOP_DEADLINE_MS = 15_000;

const USAGE = `Usage: resourcemonitor <command> [options]

Commands:
  run        sample on the interval and hand each document to the sinks (default)
  once       print one validated document as JSON on stdout; writes nothing
  config     print the effective configuration, secrets redacted
  plugins    list the loaded plugins, their versions and what each contributes
  dashboard  serve the read-only fleet dashboard for the configured store (bucket or data dir)
  status     the running agent's health from its state directory: last tick, each sink's
             spool depth, last error and dropped samples (exit 0 ok, 1 no status, 2 degraded)

Options:
  -c, --config FILE      configuration file (default: searched as resourcemonitor.config.*, .resourcemonitorrc*)
      --env-file FILE    KEY=VALUE file of the original agent (default: /etc/resourcemonitor/config if present)
      --interval SEC     seconds between samples (UPLOAD_FREQUENCY_SECONDS, default 60)
      --hostname NAME    host name in the store (HOSTNAME_OVERRIDE, default: system hostname)
      --bucket NAME      S3 bucket (S3_BUCKET_NAME); without one, the store is --data-dir
      --region REGION    AWS region (AWS_DEFAULT_REGION, default us-east-1)
      --prefix PREFIX    key prefix in the store
      --data-dir DIR     file store when no bucket is set (default ./resourcemonitor-data)
      --state-dir DIR    agent state (default <data-dir>/.spool)
      --procfs DIR       proc root the collectors read (default /proc)
      --sysfs DIR        sys root the collectors read (default /sys)
      --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (default info)
      --host ADDR        dashboard: address to listen on (default 127.0.0.1, this machine only)
      --port PORT        dashboard: port (default 8787)
      --schema           config: print the JSON schema of the configuration file, with every plugin's options
      --json             plugins: print the full schemas as JSON; status: print the status as JSON
  -h, --help             show this help
  -v, --version          print the version

Exit codes: 0 ok, 64 bad command line, 78 bad configuration, 1 other failure.
Logs are JSON lines on stderr.`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  "env-file": { type: "string" },
  interval: { type: "string" },
  hostname: { type: "string" },
  bucket: { type: "string" },
  region: { type: "string" },
  prefix: { type: "string" },
  "data-dir": { type: "string" },
  "state-dir": { type: "string" },
  procfs: { type: "string" },
  sysfs: { type: "string" },
  "log-level": { type: "string" },
  json: { type: "boolean" },
  schema: { type: "boolean" },
  host: { type: "string" },
  port: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

const COMMANDS: Record<string, (values: Values) => Promise<number>> = { run, once, config: printConfig, plugins, status, dashboard };

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`resourcemonitor: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`), 0;
  if (values.version) return void process.stdout.write(`${VERSION}\n`), 0;
  const name = positionals[0] ?? "run";
  const command = COMMANDS[name];
  if (!command || positionals.length > 1) {
    process.stderr.write(`resourcemonitor: unknown command "${positionals.join(" ")}"\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  try {
    return await command(values);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`resourcemonitor: configuration error: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`resourcemonitor: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

async function configure(values: Values): Promise<AgentConfig> {
  const config = await loadConfig({
    configFile: values.config,
    envFile: values["env-file"],
    defaultCollectors: DEFAULT_COLLECTORS,
    flags: {
      interval: values.interval,
      hostname: values.hostname,
      bucket: values.bucket,
      region: values.region,
      prefix: values.prefix,
      dataDir: values["data-dir"],
      stateDir: values["state-dir"],
      procfs: values.procfs,
      sysfs: values.sysfs,
      logLevel: values["log-level"],
    },
  });
  // The KEY=VALUE file may carry AWS credentials for the SDK's default chain; the real environment wins.
  for (const [key, value] of Object.entries(config.aws)) process.env[key] ??= value;
  return config;
}

function loggerFor(config: AgentConfig): Logger {
  const logger = createLogger({ level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);
  return logger;
}

/**
 * Node's process warnings (a dependency's deprecation or support notice, such as the AWS SDK's about Node
 * versions) as one log line each, instead of Node's multi-line text between the JSON lines on stderr.
 */
function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error & { code?: string }) => {
    logger.warn({ warning: warning.name, code: warning.code }, `process warning: ${warning.message.replace(/\s*\n\s*/g, " ")}`);
  });
}

interface SignalActions {
  stop(): Promise<void>;
  reload(): Promise<unknown>;
}

/**
 * Listens for SIGINT and SIGTERM (stop) and SIGHUP (reload) from the moment it is called. A signal that comes
 * while the agent is still starting (loading plugins, replaying a spool) is acted on once it has started,
 * where Node's default for SIGTERM would kill it half-started. Stops and reloads run one after another.
 */
function watchSignals(logger: Logger): { started(actions: SignalActions): void; stopped: Promise<void> } {
  let actions: SignalActions | undefined;
  let work: Promise<unknown> = Promise.resolve();
  let stopping = false;
  let reloadAsked = false;
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = (running: SignalActions) => (work = work.then(() => running.stop()).then(markStopped));
  const reload = (running: SignalActions) => {
    logger.info("received SIGHUP: reloading the configuration");
    work = work.then(() => running.reload());
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `received ${signal}: stopping (${actions ? "finishing the tick in flight, then flushing sinks" : "once start-up has finished"})`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${STOP_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    if (actions) stop(actions);
  };
  const onHangup = () => {
    if (stopping) return;
    if (actions) reload(actions);
    else reloadAsked = true;
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal).on("SIGHUP", onHangup);
  return {
    started(running) {
      actions = running;
      if (stopping) stop(running);
      else if (reloadAsked) reload(running);
    },
    stopped,
  };
}

async function run(values: Values): Promise<number> {
  const config = await configure(values);
  const logger = loggerFor(config);
  logProcessWarnings(logger);
  const signals = watchSignals(logger);
  const releaseStateDir = claimStateDir(config.stateDir);
  const parts = await createAgent(config, logger);
  logger.info(
    {
      version: VERSION,
      hostname: config.hostname,
      intervalSeconds: config.interval,
      collectors: config.collectors.map((entry) => entry.name),
      sinks: config.sinks.map((entry) => entry.name),
      configFile: config.files.config,
      envFile: config.files.env,
    },
    `resourcemonitor ${VERSION} sampling every ${config.interval} s as "${config.hostname}"`,
  );
  const runner = new AgentRunner(parts, config, logger);
  const uncaught = (error: unknown) => {
    runner.uncaughtErrors += 1;
    logger.error({ err: error }, `uncaught error outside any tick (often a plugin's timer or callback), the agent goes on: ${(error as Error)?.message ?? String(error)}`);
  };
  process.on("uncaughtException", uncaught);
  process.on("unhandledRejection", uncaught);
  await runner.start();
  signals.started({ stop: () => runner.stop(), reload: () => runner.reload(() => configure(values)) });
  await signals.stopped;
  releaseStateDir();
  // A sink's socket to a frozen endpoint, or a plugin's leaked timer, must not keep a stopped agent alive.
  setTimeout(() => process.exit(0), 500).unref();
  return 0;
}

async function dashboard(values: Values): Promise<number> {
  const port = parsePort(values.port);
  if (typeof port === "string") return void process.stderr.write(`resourcemonitor: ${port}\n`), EXIT_USAGE;
  const config = await configure(values);
  return serveDashboard(config, values.host, port, loggerFor(config));
}

async function status(values: Values): Promise<number> {
  const config = await configure(values);
  let current: AgentStatus;
  try {
    current = await readStatus(config.stateDir);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no status file: no agent has run with this state directory (stateDir, --state-dir)" : (error as Error).message;
    process.stderr.write(`resourcemonitor: cannot read ${statusPath(config.stateDir)}: ${reason}\n`);
    return 1;
  }
  const running = isRunning(current.pid);
  process.stdout.write(values.json ? `${JSON.stringify({ ...current, running }, null, 2)}\n` : formatStatus(current, running));
  return isDegraded(current, running) ? 2 : 0;
}

async function once(values: Values): Promise<number> {
  const config = await configure(values);
  const logger = loggerFor(config);
  const { runtime } = await createAgent(config, logger, ["collector"]);
  await runtime.start();
  const now = Date.now();
  const document = await runtime.collect(new Date(now - (now % 1000)));
  await runtime.stop();
  if (!document) return 1;
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}

async function printConfig(values: Values): Promise<number> {
  const config = await configure(values);
  if (values.schema) return void process.stdout.write(`${JSON.stringify(fullConfigSchema(await offeredPlugins(config)), null, 2)}\n`), 0;
  const { warnings, ...shown } = config;
  for (const warning of warnings) process.stderr.write(`resourcemonitor: ${warning}\n`);
  process.stdout.write(`${JSON.stringify(redactSecrets(shown), null, 2)}\n`);
  return 0;
}

async function plugins(values: Values): Promise<number> {
  const config = await configure(values);
  const parts: AgentParts = await createAgent(config, createLogger({ level: "warn" }));
  process.stdout.write(describePlugins(parts, values.json === true));
  return 0;
}

