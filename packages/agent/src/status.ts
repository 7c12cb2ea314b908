import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RuntimeHealth, SinkHealth } from "@resourcemonitor/runtime";
import { Publisher } from "./publish.js";

export const STATUS_FILE = "status.json";

/** What `resourcemonitor run` writes to `<stateDir>/status.json` every few seconds and `status` reads. */
export interface AgentStatus {
  pid: number;
  version: string;
  hostname: string;
  intervalSeconds: number;
  startedAt: string;
  updatedAt: string;
  /** The slot of the last tick that finished, and when it finished. */
  lastTick?: { slot: string; finishedAt: string };
  ticks: number;
  skipped: number;
  /** Errors thrown from timers or callbacks outside any tick (usually a plugin's), caught and logged. */
  uncaughtErrors: number;
  plugins: RuntimeHealth["plugins"];
  sinks: SinkHealth[];
}

export function statusPath(stateDir: string): string {
  return join(stateDir, STATUS_FILE);
}

const publishers = new Map<string, Publisher>();

/**
 * Replaces the status file atomically: a reader sees the old one or the new one. Synchronous: a few hundred
 * bytes on the local state disk cost microseconds, where fs/promises pays several thread-pool round trips.
 */
export function writeStatus(stateDir: string, status: AgentStatus): void {
  const path = statusPath(stateDir);
  let publisher = publishers.get(path);
  if (!publisher) publishers.set(path, (publisher = new Publisher(path)));
  publisher.publish(`${JSON.stringify(status, null, 2)}\n`);
}

export async function readStatus(stateDir: string): Promise<AgentStatus> {
  return JSON.parse(await readFile(statusPath(stateDir), "utf8")) as AgentStatus;
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return "never";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  return `${iso} (${seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`} ago)`;
}

function bytes(count: number): string {
  return count < 1024 * 1024 ? `${Math.round(count / 1024)} KiB` : `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

/** Something an operator should look at: the agent is gone, ticks stopped, or a sink holds a backlog. */
export function isDegraded(status: AgentStatus, running: boolean, now = Date.now()): boolean {
  const lastTick = status.lastTick ? Date.parse(status.lastTick.finishedAt) : Date.parse(status.startedAt);
  const stale = now - lastTick > Math.max(3 * status.intervalSeconds * 1000, 30_000);
  return !running || stale || status.sinks.some((sink) => sink.state !== "up" || sink.depth > 0);
}

/** The status as a few lines for a terminal. */
export function formatStatus(status: AgentStatus, running: boolean, now = Date.now()): string {
  const lines = [
    `agent:      ${running ? "running" : "NOT running"} (pid ${status.pid}), version ${status.version}, host "${status.hostname}", every ${status.intervalSeconds} s`,
    `started:    ${ago(status.startedAt, now)}; status written ${ago(status.updatedAt, now)}`,
    `last tick:  ${ago(status.lastTick?.slot, now)}; ${status.ticks} ticks, ${status.skipped} skipped slots, ${status.uncaughtErrors} uncaught errors`,
  ];
  for (const plugin of status.plugins) {
    const error = plugin.lastError ? `; failing now: ${plugin.lastError}` : "";
    lines.push(`${plugin.kind === "sink" ? "sink" : "collector"} ${plugin.name}: ${plugin.runs} runs, ${plugin.failures} failures${error}`);
  }
  for (const sink of status.sinks) {
    lines.push(
      `spool ${sink.sink}: ${sink.state}${sink.downSince ? ` since ${sink.downSince}` : ""}; ${sink.depth} samples waiting (${bytes(sink.bytes)}${sink.inMemory ? `, ${sink.inMemory} in memory only` : ""}) in ${sink.spoolDir}`,
      `  delivered ${sink.delivered} live, replayed ${sink.replayed}, dropped ${sink.dropped}, corrupt records skipped ${sink.corrupt}`,
    );
    if (sink.lastError) lines.push(`  last error: ${sink.lastError} at ${sink.lastErrorAt}`);
    if (sink.diskError) lines.push(`  spool directory problem: ${sink.diskError}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One log line's worth of the same figures. */
export function healthSummary(status: AgentStatus): string {
  const sinks = status.sinks.map((sink) => `${sink.sink} ${sink.state}, ${sink.depth} spooled, ${sink.dropped} dropped`).join("; ");
  const failing = status.plugins.filter((plugin) => plugin.failures > 0).map((plugin) => `${plugin.name} ${plugin.failures}`);
  return `health: ${status.ticks} ticks, ${status.skipped} skipped; sinks: ${sinks || "none"}; plugin failures: ${failing.join(", ") || "none"}`;
}
