import { NvmlBinding, NvmlLoadError, RC } from "./binding.js";
import { CLOSED, CLOSED_SUFFIX, COUNT, OFFSET, OPEN, RETRY_AT, STATE, STRIDE, writeDevices, type DeviceInfo, type SharedViews } from "./shared.js";

export type LogLevel = "debug" | "info" | "warn";
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface ReaderOptions {
  libraryPath: string;
  /** Wait before trying again when NVML cannot be opened (no library, no driver). */
  retryIntervalMs: number;
  /** First wait before reopening after a lost GPU or a driver swap; doubles up to retryIntervalMs. */
  reopenDelayMs: number;
}

/** Why NVML is not open; `library` = the file or its symbols are missing, `driver` = init or enumeration failed. */
export type ClosedKind = "library" | "driver" | "reopening";

const METRICS = ["memory", "utilization", "temperature", "power", "fan"] as const;
type Metric = (typeof METRICS)[number];

interface OpenDevice {
  readonly ordinal: number;
  readonly info: DeviceInfo;
  readonly handle: unknown;
  memoryV2: boolean;
  /** Metrics that returned NOT_SUPPORTED: null from then on, never asked again (until NVML is reopened). */
  readonly unsupported: Set<Metric>;
  /** The last error per metric, so a failing call is logged once, not every tick. */
  readonly failing: Map<Metric, number>;
  lost: boolean;
}

/** Errors after which the whole library must be reopened. */
const LIBRARY_GONE = new Set<number>([RC.LIB_RM_VERSION_MISMATCH, RC.UNINITIALIZED, RC.DRIVER_NOT_LOADED]);

/**
 * Owns NVML inside the worker: opens it once (init, enumerate, names cached), reads the changing metrics
 * on each poll into the shared numbers, and closes and reopens it with backoff when a GPU is lost or the
 * driver changes under it. Never throws.
 */
export class NvmlReader {
  private nvml: NvmlBinding | null = null;
  private devices: OpenDevice[] = [];
  private openAt = 0;
  private reopenDelayMs: number;
  private lastReason: string | null = null;
  /** The kind of the last failure to open, or null while open. */
  closedKind: ClosedKind | null = "reopening";

  constructor(
    private readonly options: ReaderOptions,
    private readonly shared: SharedViews,
    private readonly log: Log,
  ) {
    this.reopenDelayMs = options.reopenDelayMs;
  }

  /** Opens (or reopens) NVML when that is due; done at start too, so the first tick does not pay for init. */
  prepare(now: number): void {
    if (now >= this.openAt && (this.nvml === null || this.devices.some((device) => device.lost))) this.reopen(now);
  }

  /** Reads every GPU into the shared numbers (opening or reopening NVML first when due). */
  poll(now: number): void {
    this.prepare(now);
    let count = 0;
    if (this.nvml) {
      for (const device of this.devices) {
        if (device.lost) continue;
        const rc = this.readDevice(this.nvml, device, count);
        if (rc === RC.SUCCESS) count += 1;
        else if (rc === RC.GPU_IS_LOST) this.markLost(device, now);
        else return this.fail(now, "reopening", `NVML stopped answering: ${this.nvml.errorString(rc)}; reopening`, this.backoff());
      }
    }
    this.publish(count);
  }

  close(): void {
    if (!this.nvml) return;
    this.nvml.shutdown();
    this.nvml.unload();
    this.nvml = null;
    this.devices = [];
  }

  private reopen(now: number): void {
    this.close();
    let nvml: NvmlBinding;
    try {
      nvml = new NvmlBinding(this.options.libraryPath);
    } catch (error) {
      const reason = error instanceof NvmlLoadError ? error.message : `cannot load ${this.options.libraryPath}: ${String(error)}`;
      return this.fail(now, "library", reason, this.options.retryIntervalMs);
    }
    const rc = nvml.init();
    if (rc !== RC.SUCCESS) {
      const reason = `nvmlInit_v2 failed: ${nvml.errorString(rc)}`;
      nvml.unload();
      return this.fail(now, "driver", reason, this.options.retryIntervalMs);
    }
    this.nvml = nvml;
    const count = nvml.count();
    if (count !== RC.SUCCESS) {
      return this.fail(now, "driver", `nvmlDeviceGetCount_v2 failed: ${nvml.errorString(count)}`, this.options.retryIntervalMs);
    }
    this.devices = this.enumerate(nvml, nvml.value);
    writeDevices(this.shared, this.devices.map((device) => device.info));
    this.opened(now, nvml);
  }

  private enumerate(nvml: NvmlBinding, count: number): OpenDevice[] {
    const devices: OpenDevice[] = [];
    for (let ordinal = 0; ordinal < count; ordinal += 1) {
      const { rc, handle } = nvml.handle(ordinal);
      const name = rc === RC.SUCCESS ? nvml.name(handle) : rc;
      if (typeof name === "number") {
        this.log("warn", `GPU ${ordinal} cannot be opened: ${nvml.errorString(name)}; left out until NVML is reopened`, { ordinal });
        devices.push(this.lostDevice(devices.length, ordinal));
        continue;
      }
      const index = nvml.index(handle) === RC.SUCCESS ? nvml.value : ordinal;
      const uuid = nvml.uuid(handle);
      const pci = nvml.pciBusId(handle);
      const info = { index, name, uuid: typeof uuid === "string" ? uuid : null, pci_bus_id: typeof pci === "string" ? pci : null };
      devices.push({ ordinal: devices.length, info, handle, memoryV2: nvml.hasMemoryV2, unsupported: new Set(), failing: new Map(), lost: false });
    }
    return devices;
  }

  private lostDevice(ordinal: number, index: number): OpenDevice {
    const info = { index, name: "", uuid: null, pci_bus_id: null };
    return { ordinal, info, handle: null, memoryV2: false, unsupported: new Set(), failing: new Map(), lost: true };
  }

  private opened(now: number, nvml: NvmlBinding): void {
    const lost = this.devices.filter((device) => device.lost).length;
    const names = this.devices.filter((device) => !device.lost).map((device) => `${device.info.index}: ${device.info.name}`);
    this.log("info", `NVML open: driver ${nvml.driverVersion() ?? "unknown"}, ${names.length} GPU(s)${names.length ? ` (${names.join(", ")})` : ""}`, {
      library: nvml.path,
      memoryInfo: nvml.hasMemoryV2 ? "v2" : "v1",
    });
    this.lastReason = null;
    this.closedKind = null;
    if (lost > 0) {
      this.openAt = now + this.backoff();
    } else {
      this.reopenDelayMs = this.options.reopenDelayMs;
    }
  }

  /** Not open: says why at info level when the reason is new, and waits `waitMs`. */
  private fail(now: number, kind: ClosedKind, reason: string, waitMs: number): void {
    this.close();
    this.closedKind = kind;
    this.openAt = now + waitMs;
    const fields = { library: this.options.libraryPath, retryInSeconds: Math.round(waitMs / 1000) };
    if (reason !== this.lastReason) this.log(kind === "reopening" ? "warn" : "info", `${reason}${CLOSED_SUFFIX}`, fields);
    else this.log("debug", reason, fields);
    this.lastReason = reason;
    this.publish(0);
  }

  private markLost(device: OpenDevice, now: number): void {
    device.lost = true;
    if (this.openAt <= now) this.openAt = now + this.backoff();
    const wait = ((this.openAt - now) / 1000).toFixed(1);
    this.log("warn", `GPU ${device.info.index} (${device.info.uuid ?? device.info.name}) is lost; the others keep reporting; reopening NVML in ${wait} s`, {
      index: device.info.index,
      uuid: device.info.uuid,
    });
  }

  /** The next wait before a reopen: reopenDelay, doubling up to retryInterval. */
  private backoff(): number {
    const wait = this.reopenDelayMs;
    this.reopenDelayMs = Math.min(this.reopenDelayMs * 2, this.options.retryIntervalMs);
    return wait;
  }

  private publish(count: number): void {
    const { control, numbers } = this.shared;
    numbers[RETRY_AT] = this.openAt;
    Atomics.store(control, COUNT, count);
    Atomics.store(control, STATE, this.nvml ? OPEN : CLOSED);
  }

  /** Reads one GPU into slot `slot`; SUCCESS, or the error that makes the device or the library unusable. */
  private readDevice(nvml: NvmlBinding, device: OpenDevice, slot: number): number {
    const base = slot * STRIDE;
    this.shared.numbers[base + OFFSET.device] = device.ordinal;
    for (const metric of METRICS) {
      const rc = device.unsupported.has(metric) ? RC.NOT_SUPPORTED : this.readMetric(nvml, device, metric);
      if (rc === RC.SUCCESS) {
        this.store(nvml, metric, base);
        if (device.failing.size > 0) device.failing.delete(metric);
        continue;
      }
      if (rc === RC.GPU_IS_LOST || LIBRARY_GONE.has(rc)) return rc;
      this.storeNull(metric, base);
      this.noteFailure(nvml, device, metric, rc);
    }
    return RC.SUCCESS;
  }

  private readMetric(nvml: NvmlBinding, device: OpenDevice, metric: Metric): number {
    const { handle } = device;
    switch (metric) {
      case "memory": {
        if (!device.memoryV2) return nvml.memory(handle, false);
        const rc = nvml.memory(handle, true);
        if (rc !== RC.ARGUMENT_VERSION_MISMATCH && rc !== RC.NOT_SUPPORTED && rc !== RC.FUNCTION_NOT_FOUND) return rc;
        this.log("debug", `nvmlDeviceGetMemoryInfo_v2 refused (${nvml.errorString(rc)}) on GPU ${device.info.index}; using v1`);
        device.memoryV2 = false;
        return nvml.memory(handle, false);
      }
      case "utilization":
        return nvml.utilization(handle);
      case "temperature":
        return nvml.temperature(handle);
      case "power":
        return nvml.powerUsage(handle);
      case "fan":
        return nvml.fanSpeed(handle);
    }
  }

  private store(nvml: NvmlBinding, metric: Metric, base: number): void {
    const numbers = this.shared.numbers;
    switch (metric) {
      case "memory":
        numbers[base + OFFSET.total] = nvml.total;
        numbers[base + OFFSET.used] = nvml.used;
        numbers[base + OFFSET.free] = nvml.free;
        return;
      case "utilization":
        numbers[base + OFFSET.utilGpu] = nvml.utilGpu;
        numbers[base + OFFSET.utilMemory] = nvml.utilMemory;
        return;
      case "temperature":
        numbers[base + OFFSET.temperature] = nvml.value;
        return;
      case "power":
        numbers[base + OFFSET.powerWatts] = nvml.value / 1000;
        return;
      case "fan":
        numbers[base + OFFSET.fanPercent] = nvml.value;
        return;
    }
  }

  private storeNull(metric: Metric, base: number): void {
    for (const field of FIELDS_OF[metric]) this.shared.numbers[base + OFFSET[field]] = Number.NaN;
  }

  private noteFailure(nvml: NvmlBinding, device: OpenDevice, metric: Metric, rc: number): void {
    if (rc === RC.NOT_SUPPORTED && !device.unsupported.has(metric)) {
      device.unsupported.add(metric);
      this.log("debug", `GPU ${device.info.index}: ${metric} not supported; null from now on`, { index: device.info.index, metric });
    } else if (rc !== RC.NOT_SUPPORTED && device.failing.get(metric) !== rc) {
      device.failing.set(metric, rc);
      this.log("debug", `GPU ${device.info.index}: reading ${metric} failed: ${nvml.errorString(rc)}; null this tick`, { index: device.info.index, metric });
    }
  }
}

const FIELDS_OF = {
  memory: ["total", "used", "free"],
  utilization: ["utilGpu", "utilMemory"],
  temperature: ["temperature"],
  power: ["powerWatts"],
  fan: ["fanPercent"],
} as const;
