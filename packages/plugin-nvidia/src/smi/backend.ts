import { execFile, spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "@resourcemonitor/runtime";
import type { Gpu, GpuBackend } from "../gpu.js";
import { findExecutable } from "../path.js";
import { parseSmiLine, QUERY_FIELDS } from "./parse.js";

export interface SmiOptions {
  /** nvidia-smi, as a path or a name looked up on PATH. */
  path: string;
  /** nvidia-smi's own loop period (-lms). */
  intervalMs: number;
  /** Longest wait between restarts, and the wait after "not found" or "driver not loaded". */
  retryIntervalMs: number;
}

const FIRST_RESTART_MS = 1000;
/** A process that ran this long was healthy: the backoff starts over and its next exit is news again. */
const HEALTHY_RUN_MS = 60_000;
const STOP_WAIT_MS = 2000;
/** nvidia-smi's exit code when the driver is not loaded. */
const EXIT_DRIVER_NOT_LOADED = 9;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  lastError: string;
  ranMs: number;
}

interface Row {
  gpu: Gpu;
  at: number;
}

/**
 * Runs ONE `nvidia-smi --query-gpu=... -lms <interval>` for the agent's lifetime and keeps the latest row of
 * each GPU; a tick only copies those rows. The process is restarted with backoff when it exits, killed at
 * stop, and started through `setpriv --pdeathsig KILL` where util-linux has it, so the kernel kills it
 * when the agent dies without a chance to stop it (SIGKILL, a crash). Without setpriv it dies of SIGPIPE on
 * its next write once the agent, the only reader of its stdout, is gone.
 */
export class SmiBackend implements GpuBackend {
  private child: ChildProcess | null = null;
  private readonly rows = new Map<number, Row>();
  private restartDelayMs = FIRST_RESTART_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastProblem: string | null = null;
  private wrapper: Promise<string | null> | null = null;

  constructor(
    private readonly options: SmiOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopping = false;
    this.wrapper ??= pdeathsigWrapper();
    void this.spawn();
  }

  read(): Promise<Gpu[]> {
    const fresh = Date.now() - 3 * this.options.intervalMs - 1000;
    const gpus: Gpu[] = [];
    for (const row of this.rows.values()) if (row.at >= fresh) gpus.push(row.gpu);
    return Promise.resolve(gpus.sort((a, b) => a.index - b.index));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_WAIT_MS);
    await closed;
    clearTimeout(timer);
  }

  /** The process's pid, for tests and diagnostics. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async spawn(): Promise<void> {
    const wrapper = await this.wrapper;
    if (this.stopping) return;
    const executable = findExecutable(this.options.path);
    if (!executable) return this.retryLater(`nvidia-smi not found (${this.options.path}; PATH=${process.env.PATH ?? ""})`, this.options.retryIntervalMs, "info");
    const args = [`--query-gpu=${QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits", `-lms`, String(this.options.intervalMs)];
    const [command, argv] = wrapper ? [wrapper, ["--pdeathsig", "KILL", "--", executable, ...args]] : [executable, args];
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const startedAt = Date.now();
    this.child = child;
    let pending = "";
    let lastError = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.onLine(line);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (lastError = chunk.trim().split("\n").pop() ?? lastError));
    child.on("error", (error) => (lastError = error.message));
    child.on("close", (code, signal) => this.onExit(child, { code, signal, lastError, ranMs: Date.now() - startedAt }));
    this.logger.debug({ pid: child.pid, command, args: argv }, "nvidia-smi started");
  }

  private onLine(line: string): void {
    const gpu = parseSmiLine(line.replace(/\r$/, ""));
    if (!gpu) {
      if (line.trim()) this.logger.debug({ line }, "nvidia-smi printed a line that is not a GPU row; skipped");
      return;
    }
    this.rows.set(gpu.index, { gpu, at: Date.now() });
  }

  private onExit(child: ChildProcess, { code, signal, lastError, ranMs }: ExitInfo): void {
    if (this.child === child) this.child = null;
    if (this.stopping) return;
    if (ranMs >= HEALTHY_RUN_MS) {
      this.restartDelayMs = FIRST_RESTART_MS;
      this.lastProblem = null;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (code === EXIT_DRIVER_NOT_LOADED) {
      return this.retryLater(`nvidia-smi ${how}: the NVIDIA driver is not loaded (${lastError})`, this.options.retryIntervalMs, "info");
    }
    const wait = this.restartDelayMs;
    this.restartDelayMs = Math.min(wait * 2, this.options.retryIntervalMs);
    this.retryLater(`nvidia-smi ${how}${lastError ? ` (${lastError})` : ""}`, wait, "warn");
  }

  private retryLater(problem: string, waitMs: number, level: "info" | "warn"): void {
    const message = `${problem}; starting it again in ${(waitMs / 1000).toFixed(1)} s`;
    if (problem !== this.lastProblem) this.logger[level]({ retryInSeconds: waitMs / 1000 }, message);
    else this.logger.debug(message);
    this.lastProblem = problem;
    this.timer = setTimeout(() => void this.spawn(), waitMs);
    this.timer.unref();
  }
}

/** `setpriv` when it exists and understands --pdeathsig (util-linux 2.33+), else null. */
function pdeathsigWrapper(): Promise<string | null> {
  const setpriv = findExecutable("setpriv");
  const check = findExecutable("true");
  if (!setpriv || !check) return Promise.resolve(null);
  return new Promise((resolve) => execFile(setpriv, ["--pdeathsig", "KILL", "--", check], (error) => resolve(error ? null : setpriv)));
}
