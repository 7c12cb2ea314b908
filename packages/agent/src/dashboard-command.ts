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
 * `resourcemonitor dashboard`: serves the read-only fleet dashboard for the store the configuration
 * names (bucket and prefix, or data directory) until SIGINT or SIGTERM.
 */
export async function serveDashboard(config: AgentConfig, host: string | undefined, port: number, logger: Logger): Promise<number> {
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
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });
  logger.info({ signal }, `received ${signal}; dashboard stopped`);
  await dashboard.close();
  return 0;
}
