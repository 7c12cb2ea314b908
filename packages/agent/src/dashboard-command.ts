import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { AgentConfig, Logger } from "@resourcemonitor/runtime";
import { ConfigError } from "@resourcemonitor/runtime";

export const DEFAULT_DASHBOARD_PORT = 8787;

/** The port flag as a number, or an error message for the command line. */
export function parsePort(text: string | undefined): number | string {
  if (text === undefined) return DEFAULT_DASHBOARD_PORT;
  const port = Number(text);
  return /^\d+$/.test(text) && port <= 65535 ? port : `--port ${JSON.stringify(text)} is no port number (0-65535)`;
}

/**
 * V8 flags the bin's shebang sets for the agent, which wakes once a second and keeps its memory small. A server
 * answering thousands of store reads per page is slower under them (BENCHMARKS.md, "Dashboard": a cold 1 h
 * chart 1.49 s instead of 0.80 s, the fleet API 390 ms instead of 220 ms), so the command runs again without them.
 */
const AGENT_ONLY_FLAGS = /^--(?:no-opt|lite-mode|optimize-for-size|max-semi-space-size(?:=.*)?)$/;
const PASSED_ON: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** What the relaunched child tells its parent once it has begun to stop (on a signal). */
const STOPPING = "resourcemonitor:dashboard-stopping";

/**
 * Under the agent's flags: the same command in a child node without them, whose exit status this returns.
 * The child writes to the same stdout and stderr and runs in a process group of its own, so Ctrl-C at a
 * terminal reaches this process only, which passes SIGINT, SIGTERM and SIGHUP on; the child stops if this
 * process is gone (its IPC channel closes). A signal sent to both (a service manager stopping the whole
 * group) may reach the child again while it exits, after its handlers are gone: a child that had begun to
 * stop (it says so over IPC) and dies of that counts as stopped.
 */
function relaunchWithoutAgentFlags(): Promise<number> | undefined {
  if (!process.execArgv.some((flag) => AGENT_ONLY_FLAGS.test(flag))) return undefined;
  const flags = process.execArgv.filter((flag) => !AGENT_ONLY_FLAGS.test(flag));
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], { stdio: ["inherit", "inherit", "inherit", "ipc"], detached: true });
  let stopping = false;
  child.on("message", (message) => (stopping ||= message === STOPPING));
  const passOn = (signal: NodeJS.Signals) => void (stopping || child.kill(signal));
  for (const signal of PASSED_ON) process.on(signal, passOn);
  return new Promise((resolve) => {
    child.once("error", (error) => {
      process.stderr.write(`resourcemonitor: cannot start the dashboard: ${error.message}\n`);
      resolve(1);
    });
    // "close", not "exit": by then every message the child sent has been read.
    child.once("close", (code, signal) => {
      for (const passed of PASSED_ON) process.off(passed, passOn);
      resolve(code ?? (stopping ? 0 : 128 + (signal ? constants.signals[signal] : 0)));
    });
  });
}

/**
 * `resourcemonitor dashboard`: serves the read-only fleet dashboard for the store the configuration
 * names (bucket and prefix, or data directory) until SIGINT or SIGTERM.
 */
export async function serveDashboard(config: AgentConfig, host: string | undefined, port: number, logger: Logger): Promise<number> {
  const relaunched = relaunchWithoutAgentFlags();
  if (relaunched) return relaunched;
  // Loaded on demand: the agent itself never needs the dashboard (or the AWS SDK).
  const { openStore, startDashboard } = await import("@resourcemonitor/dashboard");
  let store;
  try {
    store = await openStore({ bucket: config.bucket, region: config.region, dataDir: config.dataDir });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  let dashboard;
  try {
    dashboard = await startDashboard({ store, prefix: config.prefix, host: host ?? "127.0.0.1", port, intervalSeconds: config.interval, logger });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EADDRINUSE" ? "the port is taken: pick another with --port" : code === "EADDRNOTAVAIL" ? "no such address on this machine: check --host" : (error as Error).message;
    process.stderr.write(`resourcemonitor: cannot listen on ${host ?? "127.0.0.1"}:${port}: ${why}\n`);
    return 1;
  }
  logger.info({ url: dashboard.url, store: store.description, prefix: config.prefix }, `dashboard on ${dashboard.url} (read-only) for ${store.description}`);
  // `on`, not `once`: a signal sent to the whole group reaches both this process and the parent that
  // relaunched it, which passes it on.
  const signal = await new Promise<NodeJS.Signals | "disconnect">((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
    // Relaunched (relaunchWithoutAgentFlags): the parent's channel, which closes when the parent is gone.
    if (process.channel) {
      process.channel.unref();
      process.once("disconnect", () => resolve("disconnect"));
    }
  });
  if (process.send && process.connected) process.send(STOPPING);
  if (signal === "disconnect") logger.warn("the process that started the dashboard is gone; dashboard stopped");
  else logger.info({ signal }, `received ${signal}; dashboard stopped`);
  await dashboard.close();
  return 0;
}
