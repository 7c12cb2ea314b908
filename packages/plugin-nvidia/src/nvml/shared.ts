/*
 * The memory the NVML worker and the main thread share. The main thread asks for a reading by bumping
 * REQUEST and waking the worker; the worker reads every GPU synchronously, writes the numbers below, bumps
 * RESPONSE and wakes the main thread (Atomics.waitAsync). Numbers travel as float64 (NaN = null), so a tick
 * costs the main thread no message and no structured clone. The rarely changing strings (names, UUIDs, PCI
 * bus ids) travel as JSON, re-read only when GENERATION changes.
 */

export const MAX_GPUS = 64;

/** Int32 slots of the control block. */
export const REQUEST = 0;
/** REQUEST set to this tells the worker to close NVML and exit. */
export const STOP = -1;
export const RESPONSE = 1;
export const STATE = 2;
export const COUNT = 3;
export const GENERATION = 4;
export const DEVICES_LENGTH = 5;
const CONTROL_SLOTS = 8;

/** STATE values. */
export const STARTING = 0;
/** NVML is open: ask for readings. */
export const OPEN = 1;
/** NVML cannot be used now; the worker tries again at RETRY_AT, so asking earlier is pointless. */
export const CLOSED = 2;

/** Ends every log line that says why NVML is not open. */
export const CLOSED_SUFFIX = "; gpu will be [] until NVML opens";

/** Float64 slot 0: epoch ms of the worker's next attempt to open NVML (while CLOSED). */
export const RETRY_AT = 0;

/** Per reported GPU, in this order: device ordinal (into the device list), then the metrics. */
export const FIELDS = ["device", "total", "used", "free", "utilGpu", "utilMemory", "temperature", "powerWatts", "fanPercent"] as const;
export type Field = (typeof FIELDS)[number];
export const STRIDE = FIELDS.length;
export const OFFSET = Object.fromEntries(FIELDS.map((field, position) => [field, 1 + position])) as Record<Field, number>;

const DEVICES_BYTES = 64 * 1024;

/** The static facts of a GPU, found once when NVML is opened. */
export interface DeviceInfo {
  index: number;
  name: string;
  uuid: string | null;
  pci_bus_id: string | null;
}

export interface SharedViews {
  control: Int32Array;
  numbers: Float64Array;
  devices: Uint8Array;
}

export function allocateShared(): SharedArrayBuffer[] {
  return [
    new SharedArrayBuffer(CONTROL_SLOTS * 4),
    new SharedArrayBuffer((1 + MAX_GPUS * STRIDE) * 8),
    new SharedArrayBuffer(DEVICES_BYTES),
  ];
}

export function views([control, numbers, devices]: SharedArrayBuffer[]): SharedViews {
  if (!control || !numbers || !devices) throw new Error("NVML worker: shared buffers missing");
  return { control: new Int32Array(control), numbers: new Float64Array(numbers), devices: new Uint8Array(devices) };
}

/** Worker side: publishes a new device list and bumps GENERATION. */
export function writeDevices(shared: SharedViews, devices: readonly DeviceInfo[]): void {
  const bytes = new TextEncoder().encode(JSON.stringify(devices.slice(0, MAX_GPUS)));
  if (bytes.length > shared.devices.length) throw new Error(`device list of ${bytes.length} bytes does not fit`);
  shared.devices.set(bytes);
  Atomics.store(shared.control, DEVICES_LENGTH, bytes.length);
  Atomics.add(shared.control, GENERATION, 1);
}

/** Main side: the device list as last published. */
export function readDevices(shared: SharedViews): DeviceInfo[] {
  const length = Atomics.load(shared.control, DEVICES_LENGTH);
  if (length === 0) return [];
  return JSON.parse(new TextDecoder().decode(shared.devices.slice(0, length))) as DeviceInfo[];
}
