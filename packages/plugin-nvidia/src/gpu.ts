import { roundPercent } from "@resourcemonitor/runtime";

/** One entry of the document's `gpu[]` (DESIGN.md), plus `uuid` and `pci_bus_id`. */
export interface Gpu {
  index: number;
  name: string;
  memory: { total: number | null; used: number | null; free: number | null; percent: number | null };
  utilization: { gpu: number | null; memory: number | null };
  /** Degrees Celsius. */
  temperature: number | null;
  power_usage_watts: number | null;
  fan_speed_percent: number | null;
  /** Stable across reboots, unlike the index. null where the backend cannot tell. */
  uuid: string | null;
  /** `domain:bus:device.function`, e.g. `00000000:01:00.0`. */
  pci_bus_id: string | null;
}

/** What the plugin merges into the document. */
export interface GpuFragment {
  gpu: Gpu[];
}

/** used / total in percent, one decimal as the original agent rounded it; null when either is unknown. */
export function memoryPercent(used: number | null, total: number | null): number | null {
  if (used === null || total === null || total <= 0) return null;
  return roundPercent((used / total) * 100);
}

/** A backend reads the GPUs; `read` resolves with this tick's list ([] when there is no GPU or no driver). */
export interface GpuBackend {
  start(): void;
  read(): Promise<Gpu[]>;
  stop(): Promise<void>;
}
