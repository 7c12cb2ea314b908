import type { GpuSummary, MetricFigures } from "./api-types.js";

/** What the dashboard reads from one document; fields the document lacks are null, sections it lacks empty. */
export interface DocumentSummary extends MetricFigures {
  timestamp: string | null;
  /** The document has a `cpu` object. */
  hasCpu: boolean;
  perCore: (number | null)[];
  hasMemory: boolean;
  temperatures: { sensor: string; celsius: number | null }[];
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function number(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function gpuSummary(value: unknown, position: number): GpuSummary {
  const gpu = object(value) ?? {};
  const memory = object(gpu.memory) ?? {};
  return {
    index: number(gpu.index) ?? position,
    name: typeof gpu.name === "string" ? gpu.name : null,
    utilizationPercent: number(object(gpu.utilization)?.gpu),
    memoryPercent: number(memory.percent),
    memoryUsedBytes: number(memory.used),
    memoryTotalBytes: number(memory.total),
    temperatureCelsius: number(gpu.temperature),
    powerWatts: number(gpu.power_usage_watts),
  };
}

function temperature(value: unknown, position: number): { sensor: string; celsius: number | null } {
  const entry = object(value) ?? {};
  return { sensor: typeof entry.sensor === "string" ? entry.sensor : `sensor ${position}`, celsius: number(entry.temperature) };
}

/** The parts of a metrics document (DESIGN.md's contract) the dashboard shows; never throws on odd shapes. */
export function summarize(document: unknown): DocumentSummary {
  const root = object(document) ?? {};
  const cpu = object(root.cpu);
  const memory = object(root.memory);
  const virtual = object(memory?.virtual) ?? {};
  const swap = object(memory?.swap) ?? {};
  return {
    timestamp: typeof root.timestamp === "string" ? root.timestamp : null,
    hasCpu: cpu !== undefined,
    cpuPercent: number(cpu?.usage_percent),
    perCore: array(cpu?.usage_per_core).map(number),
    frequencyMhz: number(object(cpu?.frequency)?.current),
    hasMemory: memory !== undefined,
    memoryPercent: number(virtual.percent),
    memoryUsedBytes: number(virtual.used),
    memoryTotalBytes: number(virtual.total),
    swapPercent: number(swap.percent),
    swapUsedBytes: number(swap.used),
    swapTotalBytes: number(swap.total),
    temperatures: array(cpu?.temperatures).map(temperature),
    gpus: array(root.gpu).map(gpuSummary),
  };
}

/** The sensor reading highest now, or null when there is none. */
export function hottest(temperatures: DocumentSummary["temperatures"]): { sensor: string; celsius: number } | null {
  let best: { sensor: string; celsius: number } | null = null;
  for (const { sensor, celsius } of temperatures) if (celsius !== null && (best === null || celsius > best.celsius)) best = { sensor, celsius };
  return best;
}
