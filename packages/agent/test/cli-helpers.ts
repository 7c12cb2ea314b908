import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../bin/resourcemonitor.js", import.meta.url));

/** An environment without the real /etc/resourcemonitor/config or the developer's S3 settings. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { S3_BUCKET_NAME: _bucket, UPLOAD_FREQUENCY_SECONDS: _interval, HOSTNAME_OVERRIDE: _host, ...rest } = process.env;
  return { ...rest, RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env", ...extra };
}

export function tempDir(prefix = "rm-agent-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): { child: ChildProcess; done: Promise<Finished>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  return startCli(args, options).done;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `check` returns a value (not undefined), polling every 50 ms, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
