import { dirname } from "node:path";
import { validateHostname } from "@resourcemonitor/layout";
import {
  ConfigError,
  loadPlugin,
  PluginLoadError,
  PluginOptionsError,
  Runtime,
  type AgentConfig,
  type LoadedPlugin,
  type Logger,
  type PluginEntry,
  type PluginKind,
} from "@resourcemonitor/runtime";
import { PACKAGE_DIR } from "./version.js";

export interface AgentParts {
  runtime: Runtime;
  /** The loaded plugins with where each came from, in config order. */
  loaded: { entry: PluginEntry; plugin: LoadedPlugin }[];
}

/** Builds the runtime for a configuration: checks the hostname, loads every plugin, validates its options. */
export async function createAgent(config: AgentConfig, logger: Logger, kinds: PluginKind[] = ["collector", "sink"]): Promise<AgentParts> {
  try {
    validateHostname(config.hostname);
  } catch (error) {
    throw new ConfigError(`hostname "${config.hostname}" cannot be used: ${(error as Error).message}`);
  }
  const runtime = new Runtime({
    settings: {
      hostname: config.hostname,
      intervalMs: config.interval * 1000,
      procfs: config.procfs,
      sysfs: config.sysfs,
      dataDir: config.dataDir,
      stateDir: config.stateDir,
    },
    logger,
    collectTimeoutMs: config.collectTimeout === undefined ? undefined : config.collectTimeout * 1000,
    delivery: config.delivery,
  });
  const searchFrom = [...new Set([config.files.config ? dirname(config.files.config) : process.cwd(), process.cwd(), PACKAGE_DIR])];
  const loaded: AgentParts["loaded"] = [];
  const lists: [PluginKind, PluginEntry[]][] = [
    ["collector", config.collectors],
    ["sink", config.sinks],
  ];
  for (const [kind, entries] of lists) {
    if (!kinds.includes(kind)) continue;
    for (const entry of entries) loaded.push({ entry, plugin: await usePlugin(runtime, kind, entry, searchFrom) });
  }
  return { runtime, loaded };
}

async function usePlugin(runtime: Runtime, kind: PluginKind, entry: PluginEntry, searchFrom: string[]): Promise<LoadedPlugin> {
  try {
    const definition = await loadPlugin(kind, entry.name, searchFrom);
    return runtime.use({ definition, options: entry.options, timeoutMs: entry.timeout && entry.timeout * 1000, source: entry.source });
  } catch (error) {
    if (error instanceof PluginLoadError || error instanceof PluginOptionsError) throw new ConfigError(`${entry.source}: ${error.message}`);
    throw error;
  }
}
