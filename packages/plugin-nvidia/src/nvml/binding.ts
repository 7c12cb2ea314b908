import koffi, { type LibraryHandle } from "koffi";

type TypeSpec = Parameters<typeof koffi.sizeof>[0];

/** nvmlReturn_t values the plugin acts on (nvml.h). */
export const RC = {
  SUCCESS: 0,
  UNINITIALIZED: 1,
  NOT_SUPPORTED: 3,
  DRIVER_NOT_LOADED: 9,
  FUNCTION_NOT_FOUND: 13,
  GPU_IS_LOST: 15,
  LIB_RM_VERSION_MISMATCH: 18,
  ARGUMENT_VERSION_MISMATCH: 25,
} as const;

/** nvmlMemory_v2_t's `version`: sizeof(nvmlMemory_v2_t) | 2 << 24. */
const MEMORY_V2_VERSION = 40 | (2 << 24);
/** NVML_DEVICE_NAME_V2_BUFFER_SIZE and NVML_DEVICE_UUID_V2_BUFFER_SIZE. */
const STRING_BUFFER = 96;
/** offsetof(nvmlPciInfo_t, busId); the struct is 68 bytes. */
const PCI_BUS_ID_OFFSET = 36;
const NVML_TEMPERATURE_GPU = 0;

/** The library could not be used at all: missing, not NVML, or too old. */
export class NvmlLoadError extends Error {}

// Anonymous koffi types: named ones are process-wide and would clash when a second worker declares them.
const Device = koffi.pointer(koffi.opaque());
const OutDevice = koffi.out(koffi.pointer(Device));
type Handle = unknown;

type Call = (...args: unknown[]) => number;

function u64(buffer: Buffer, offset: number): number {
  return buffer.readUInt32LE(offset) + buffer.readUInt32LE(offset + 4) * 2 ** 32;
}

function cString(buffer: Buffer): string {
  const end = buffer.indexOf(0);
  return buffer.toString("utf8", 0, end < 0 ? buffer.length : end);
}

/**
 * The NVML calls the plugin makes, bound with koffi. Results land in `value`, `total`/`used`/`free` or
 * `utilGpu`/`utilMemory` and each call returns the nvmlReturn_t, so a poll allocates nothing.
 * Every call blocks the calling thread: use it from the worker only.
 */
export class NvmlBinding {
  value = 0;
  total = 0;
  used = 0;
  free = 0;
  utilGpu = 0;
  utilMemory = 0;
  /** False where the driver predates nvmlDeviceGetMemoryInfo_v2 (R510). */
  readonly hasMemoryV2: boolean;

  private readonly library: LibraryHandle;
  private readonly scratch = Buffer.alloc(128);
  private readonly uint = new Uint32Array(1);
  private readonly fn: Record<string, Call | undefined> = {};

  constructor(readonly path: string) {
    try {
      this.library = koffi.load(path);
    } catch (error) {
      throw new NvmlLoadError(`cannot load ${path}: ${(error as Error).message}`);
    }
    try {
      this.bind(true, "nvmlInit_v2", "int", []);
      this.bind(true, "nvmlShutdown", "int", []);
      this.bind(true, "nvmlErrorString", "const char *", ["int"]);
      this.bind(true, "nvmlDeviceGetCount_v2", "int", ["void *"]);
      this.bind(true, "nvmlDeviceGetHandleByIndex_v2", "int", ["uint", OutDevice]);
      this.bind(true, "nvmlDeviceGetIndex", "int", [Device, "void *"]);
      this.bind(true, "nvmlDeviceGetName", "int", [Device, "void *", "uint"]);
      this.bind(true, "nvmlDeviceGetUUID", "int", [Device, "void *", "uint"]);
      this.bind(true, "nvmlDeviceGetMemoryInfo", "int", [Device, "void *"]);
      this.bind(true, "nvmlDeviceGetUtilizationRates", "int", [Device, "void *"]);
      this.bind(true, "nvmlDeviceGetTemperature", "int", [Device, "int", "void *"]);
      this.bind(true, "nvmlDeviceGetPowerUsage", "int", [Device, "void *"]);
      this.bind(true, "nvmlDeviceGetFanSpeed", "int", [Device, "void *"]);
      this.bind(false, "nvmlDeviceGetMemoryInfo_v2", "int", [Device, "void *"]);
      this.bind(false, "nvmlDeviceGetPciInfo_v3", "int", [Device, "void *"]);
      this.bind(false, "nvmlSystemGetDriverVersion", "int", ["void *", "uint"]);
    } catch (error) {
      this.library.unload();
      throw error;
    }
    this.hasMemoryV2 = this.fn.nvmlDeviceGetMemoryInfo_v2 !== undefined;
  }

  init(): number {
    return this.call("nvmlInit_v2");
  }

  shutdown(): number {
    return this.call("nvmlShutdown");
  }

  /** Unloads the library (after shutdown), so a driver upgraded meanwhile is loaded fresh next time. */
  unload(): void {
    this.library.unload();
  }

  errorString(rc: number): string {
    const text = (this.fn.nvmlErrorString as unknown as (rc: number) => string | null)(rc);
    return `${text ?? "unknown error"} (${rc})`;
  }

  driverVersion(): string | null {
    const call = this.fn.nvmlSystemGetDriverVersion;
    return call && call(this.scratch, 80) === RC.SUCCESS ? cString(this.scratch) : null;
  }

  /** Device count into `value`. */
  count(): number {
    return this.readUint(this.call("nvmlDeviceGetCount_v2", this.uint));
  }

  handle(ordinal: number): { rc: number; handle: Handle } {
    const out: Handle[] = [null];
    const rc = this.call("nvmlDeviceGetHandleByIndex_v2", ordinal, out);
    return { rc, handle: out[0] };
  }

  index(device: Handle): number {
    return this.readUint(this.call("nvmlDeviceGetIndex", device, this.uint));
  }

  name(device: Handle): string | number {
    return this.readString("nvmlDeviceGetName", device);
  }

  uuid(device: Handle): string | number {
    return this.readString("nvmlDeviceGetUUID", device);
  }

  pciBusId(device: Handle): string | number {
    const call = this.fn.nvmlDeviceGetPciInfo_v3;
    if (!call) return RC.FUNCTION_NOT_FOUND;
    this.scratch.fill(0);
    const rc = call(device, this.scratch);
    return rc === RC.SUCCESS ? cString(this.scratch.subarray(PCI_BUS_ID_OFFSET, PCI_BUS_ID_OFFSET + 32)) : rc;
  }

  /** Bytes into total/used/free; v2's `used` leaves out driver-reserved memory, as nvidia-smi does. */
  memory(device: Handle, v2: boolean): number {
    const { scratch } = this;
    if (v2) {
      scratch.writeUInt32LE(MEMORY_V2_VERSION, 0);
      const rc = this.call("nvmlDeviceGetMemoryInfo_v2", device, scratch);
      if (rc === RC.SUCCESS) [this.total, this.free, this.used] = [u64(scratch, 8), u64(scratch, 24), u64(scratch, 32)];
      return rc;
    }
    const rc = this.call("nvmlDeviceGetMemoryInfo", device, scratch);
    if (rc === RC.SUCCESS) [this.total, this.free, this.used] = [u64(scratch, 0), u64(scratch, 8), u64(scratch, 16)];
    return rc;
  }

  /** Percent into utilGpu/utilMemory. */
  utilization(device: Handle): number {
    const rc = this.call("nvmlDeviceGetUtilizationRates", device, this.scratch);
    if (rc === RC.SUCCESS) [this.utilGpu, this.utilMemory] = [this.scratch.readUInt32LE(0), this.scratch.readUInt32LE(4)];
    return rc;
  }

  /** °C of the GPU die into `value`. */
  temperature(device: Handle): number {
    return this.readUint(this.call("nvmlDeviceGetTemperature", device, NVML_TEMPERATURE_GPU, this.uint));
  }

  /** Milliwatts into `value`. */
  powerUsage(device: Handle): number {
    return this.readUint(this.call("nvmlDeviceGetPowerUsage", device, this.uint));
  }

  /** Percent of the fan's maximum into `value` (can exceed 100). */
  fanSpeed(device: Handle): number {
    return this.readUint(this.call("nvmlDeviceGetFanSpeed", device, this.uint));
  }

  private bind(required: boolean, name: string, result: string, args: TypeSpec[]): void {
    try {
      this.fn[name] = this.library.func(name, result, args) as unknown as Call;
    } catch (error) {
      if (required) throw new NvmlLoadError(`${this.path} has no ${name}: not NVML, or older than driver R450 (${(error as Error).message})`);
    }
  }

  private call(name: string, ...args: unknown[]): number {
    return (this.fn[name] as Call)(...args);
  }

  private readUint(rc: number): number {
    if (rc === RC.SUCCESS) this.value = this.uint[0] ?? 0;
    return rc;
  }

  private readString(name: string, device: Handle): string | number {
    const rc = this.call(name, device, this.scratch, STRING_BUFFER);
    return rc === RC.SUCCESS ? cString(this.scratch) : rc;
  }
}
