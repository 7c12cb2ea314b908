import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Logger } from "@resourcemonitor/runtime";
import { memoryPercent, type Gpu, type GpuBackend } from "../gpu.js";
import type { ClosedKind, ReaderOptions } from "./reader.js";
import {
  allocateShared,
  CLOSED,
  CLOSED_SUFFIX,
  COUNT,
  GENERATION,
  OFFSET,
  readDevices,
  REQUEST,
  RESPONSE,
  RETRY_AT,
  STATE,
  STOP,
  STRIDE,
  views,
  type DeviceInfo,
  type SharedViews,
} from "./shared.js";
import type { WorkerData, WorkerMessage } from "./worker.js";

/** How long stop() waits for the worker to shut NVML down before terminating it. */
const STOP_WAIT_MS = 2000;
/**
 * How long a tick waits for the worker's answer synchronously before waiting for it asynchronously. An answer
 * within this time keeps the whole collect in one turn of the event loop: the runtime then arms no collect
 * deadline, whose cleared timer would still wake the agent half an interval later for nothing, and the answer
 * costs no wakeup of the event loop. A driver call slower than this (a hung GPU) goes on as before.
 */
const SYNC_WAIT_MS = 5;

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const EMPTY: Gpu[] = [];

/** The library name the dynamic loader is asked for when the configuration names no other. */
export const DEFAULT_LIBRARY = "libnvidia-ml.so.1";
/** NVML talks to the kernel driver through one of these (the second on WSL 2); without either it cannot open. */
const DRIVER_DEVICES = ["/dev/nvidiactl", "/dev/dxg"];

function orNull(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

function createWorker(workerData: WorkerData): Worker {
  const options = { workerData, stdout: false, stderr: false };
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./worker.js", import.meta.url), options);
  // Running from source under tsx (the tests): Node 20 does not carry --import loaders into workers.
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./worker.ts", import.meta.url).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, { ...options, eval: true });
}

/**
 * The main-thread side of the NVML backend. Each tick costs it one Atomics.notify, one Atomics.wait (up to
 * SYNC_WAIT_MS; then a waitAsync) and the decoding of a few float64s into the document's objects; every NVML call runs in the worker.
 */
export class NvmlBackend implements GpuBackend {
  private worker: Worker | null = null;
  private buffers = allocateShared();
  private shared: SharedViews = views(this.buffers);
  private devices: DeviceInfo[] = [];
  private generation = 0;
  private pending: Promise<Gpu[]> | null = null;
  private restartAt = 0;
  private stopping = false;
  private lastFailure: string | null = null;

  constructor(
    private readonly options: ReaderOptions,
    private readonly logger: Logger,
    /** Hears why NVML is not open ("library", "driver", "reopening"), or null once it is. */
    private readonly onState: (kind: ClosedKind | null) => void = () => undefined,
  ) {}

  start(): void {
    this.stopping = false;
    if (this.driverAbsent()) return;
    // Fresh memory for each worker: one that is still on its way out must not answer for the new one.
    this.buffers = allocateShared();
    this.shared = views(this.buffers);
    this.generation = 0;
    this.devices = [];
    const worker = createWorker({ buffers: this.buffers, options: this.options });
    worker.on("message", (message: WorkerMessage) => this.onMessage(message));
    worker.on("error", (error) => this.onWorkerGone(worker, `the NVML worker failed: ${error.message}`));
    worker.on("exit", (code) => this.onWorkerGone(worker, `the NVML worker exited with code ${code}`));
    // A worker stuck in a hung driver call must not keep the agent alive.
    worker.unref();
    this.worker = worker;
  }

  read(): Promise<Gpu[]> {
    if (!this.worker) {
      if (this.stopping || Date.now() < this.restartAt) return Promise.resolve(EMPTY);
      this.start();
      if (!this.worker) return Promise.resolve(EMPTY);
    }
    const { control, numbers } = this.shared;
    if (Atomics.load(control, STATE) === CLOSED && Date.now() < (numbers[RETRY_AT] ?? 0)) return Promise.resolve(EMPTY);
    this.pending ??= this.request().finally(() => (this.pending = null));
    return this.pending;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.stopping = true;
    if (!worker) return;
    Atomics.store(this.shared.control, REQUEST, STOP);
    Atomics.notify(this.shared.control, REQUEST);
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<boolean>((resolve) => {
      worker.once("exit", () => resolve(true));
      timer = setTimeout(() => resolve(false), STOP_WAIT_MS);
    });
    const clean = await exited;
    clearTimeout(timer);
    if (!clean) {
      this.logger.warn(`the NVML worker did not stop within ${STOP_WAIT_MS} ms (a driver call hangs); terminating it`);
      void worker.terminate();
    }
  }

  /**
   * A machine without the NVIDIA kernel driver (most machines the default preset runs on) skips the worker and
   * the FFI library altogether, about 5 MB of memory, and looks for the driver's device again at each retry.
   * A configured libraryPath (a test double, an unusual install) is always tried.
   */
  private driverAbsent(): boolean {
    if (this.options.libraryPath !== DEFAULT_LIBRARY || DRIVER_DEVICES.some((device) => existsSync(device))) return false;
    this.restartAt = Date.now() + this.options.retryIntervalMs;
    const message = `no NVIDIA driver here (neither ${DRIVER_DEVICES.join(" nor ")} exists), so ${DEFAULT_LIBRARY} is not loaded; gpu will be [] and the driver is looked for again every ${Math.round(this.options.retryIntervalMs / 1000)} s`;
    if (message === this.lastFailure) this.logger.debug(message);
    else this.logger.info(message);
    this.lastFailure = message;
    this.onState("driver");
    return true;
  }

  private async request(): Promise<Gpu[]> {
    const { control } = this.shared;
    const seen = Atomics.load(control, RESPONSE);
    Atomics.add(control, REQUEST, 1);
    Atomics.notify(control, REQUEST);
    if (Atomics.wait(control, RESPONSE, seen, SYNC_WAIT_MS) !== "timed-out") return this.decode();
    const waiting = waitAsync(control, RESPONSE, seen);
    if (waiting.async) {
      // A pending waitAsync does not keep the event loop alive; the worker does, while it owes an answer.
      const worker = this.worker;
      worker?.ref();
      await waiting.value;
      worker?.unref();
    }
    return this.decode();
  }

  private decode(): Gpu[] {
    const { control, numbers } = this.shared;
    const generation = Atomics.load(control, GENERATION);
    if (generation !== this.generation) {
      this.devices = readDevices(this.shared);
      this.generation = generation;
    }
    const count = Atomics.load(control, COUNT);
    const gpus: Gpu[] = [];
    for (let slot = 0; slot < count; slot += 1) {
      const base = slot * STRIDE;
      const device = this.devices[numbers[base + OFFSET.device] ?? -1];
      if (!device) continue;
      const total = orNull(numbers[base + OFFSET.total]);
      const used = orNull(numbers[base + OFFSET.used]);
      gpus.push({
        index: device.index,
        name: device.name,
        memory: { total, used, free: orNull(numbers[base + OFFSET.free]), percent: memoryPercent(used, total) },
        utilization: { gpu: orNull(numbers[base + OFFSET.utilGpu]), memory: orNull(numbers[base + OFFSET.utilMemory]) },
        temperature: orNull(numbers[base + OFFSET.temperature]),
        power_usage_watts: orNull(numbers[base + OFFSET.powerWatts]),
        fan_speed_percent: orNull(numbers[base + OFFSET.fanPercent]),
        uuid: device.uuid,
        pci_bus_id: device.pci_bus_id,
      });
    }
    return gpus;
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === "log") return this.log(message);
    const kind = message.closedKind as ClosedKind | null;
    if (kind === null) this.lastFailure = null;
    this.onState(kind);
    if (kind === "library" || kind === "driver") this.release();
  }

  /** Each worker says why NVML cannot be opened; the same reason from the next worker is only debug. */
  private log({ level, message, fields = {} }: Extract<WorkerMessage, { type: "log" }>): void {
    const failure = message.endsWith(CLOSED_SUFFIX);
    if (failure && message === this.lastFailure) return this.logger.debug(fields, message);
    if (failure) this.lastFailure = message;
    this.logger[level](fields, message);
  }

  /**
   * No library or no driver: the worker (a V8 isolate, about 10 MB) is let go until the next attempt is due,
   * so a machine without GPUs does not pay for it.
   */
  private release(): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.restartAt = this.shared.numbers[RETRY_AT] ?? Date.now() + this.options.retryIntervalMs;
    Atomics.store(this.shared.control, REQUEST, STOP);
    Atomics.notify(this.shared.control, REQUEST);
    this.answerEmpty();
  }

  /** A tick waiting on a worker that is gone gets [] instead of waiting forever. */
  private answerEmpty(): void {
    Atomics.store(this.shared.control, COUNT, 0);
    Atomics.add(this.shared.control, RESPONSE, 1);
    Atomics.notify(this.shared.control, RESPONSE);
  }

  private onWorkerGone(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    if (this.stopping) return;
    this.restartAt = Date.now() + this.options.retryIntervalMs;
    this.logger.info({ retryInSeconds: Math.round(this.options.retryIntervalMs / 1000) }, `${reason}; gpu will be [] until it starts again`);
    this.onState("library");
    this.answerEmpty();
  }
}
