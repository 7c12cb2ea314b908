import { definePlugin, RUNTIME_API_VERSION, type JsonSchema, type Logger, type Sample, type Settings } from "@resourcemonitor/runtime";
import { AutoBackend } from "./auto.js";
import type { GpuBackend } from "./gpu.js";
import { DEFAULT_LIBRARY, NvmlBackend } from "./nvml/backend.js";
import { SmiBackend } from "./smi/backend.js";

export type { Gpu, GpuFragment, GpuBackend } from "./gpu.js";
export { memoryPercent } from "./gpu.js";
export { NvmlBackend } from "./nvml/backend.js";
export { SmiBackend } from "./smi/backend.js";
export { AutoBackend } from "./auto.js";
export { parseSmiLine, QUERY_FIELDS } from "./smi/parse.js";

const PLUGIN_NAME = "nvidia";

export interface NvidiaOptions {
  backend: "auto" | "nvml" | "nvidia-smi";
  libraryPath: string;
  nvidiaSmiPath: string;
  /** Seconds. */
  retryInterval: number;
  /** Seconds. */
  reopenDelay: number;
}

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    backend: {
      enum: ["auto", "nvml", "nvidia-smi"],
      default: "auto",
      description:
        "How GPUs are read: `nvml` (the NVML library in-process, in a worker thread), `nvidia-smi` (one long-running " +
        "nvidia-smi -lms process), or `auto`: NVML, and nvidia-smi only if the NVML library cannot be loaded.",
    },
    libraryPath: {
      type: "string",
      minLength: 1,
      default: DEFAULT_LIBRARY,
      description: "The NVML library: a file name searched by the dynamic loader, or an absolute path. With the default, NVML is only loaded where the driver's device (/dev/nvidiactl, or /dev/dxg on WSL 2) exists.",
    },
    nvidiaSmiPath: {
      type: "string",
      minLength: 1,
      default: "nvidia-smi",
      description: "The nvidia-smi executable for the nvidia-smi backend: a name searched on PATH, or a path.",
    },
    retryInterval: {
      type: "number",
      minimum: 1,
      default: 300,
      description: "Seconds between attempts to open NVML (or start nvidia-smi) while there is no library or driver; also the longest reopen backoff.",
    },
    reopenDelay: {
      type: "number",
      minimum: 0.05,
      default: 5,
      description: "Seconds before NVML is reopened after a GPU was lost or the driver changed; doubles on each failure up to retryInterval.",
    },
  },
};

const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type, "null"] });
const BYTES = { type: "integer", minimum: 0, description: "Bytes." };
const PERCENT = { type: "number", minimum: 0, description: "Percent." };

const FRAGMENT_SCHEMA: JsonSchema = {
  type: "object",
  required: ["gpu"],
  properties: {
    gpu: {
      type: "array",
      description: "One entry per NVIDIA GPU; [] without GPU or driver.",
      items: {
        type: "object",
        required: ["index", "name", "memory", "utilization", "temperature", "power_usage_watts", "fan_speed_percent"],
        properties: {
          index: { type: "integer", minimum: 0, description: "NVML index (changes across reboots; see uuid)." },
          name: { type: "string", description: "Product name." },
          memory: {
            type: "object",
            required: ["total", "used", "free", "percent"],
            properties: { total: nullable(BYTES), used: nullable(BYTES), free: nullable(BYTES), percent: nullable({ ...PERCENT, maximum: 100 }) },
          },
          utilization: {
            type: "object",
            required: ["gpu", "memory"],
            properties: { gpu: nullable({ ...PERCENT, maximum: 100 }), memory: nullable({ ...PERCENT, maximum: 100 }) },
          },
          temperature: { type: ["number", "null"], description: "Degrees Celsius, GPU die." },
          power_usage_watts: { type: ["number", "null"], minimum: 0, description: "Watts." },
          fan_speed_percent: { type: ["number", "null"], minimum: 0, description: "Percent of the fan's maximum; may exceed 100; null without a fan." },
          uuid: { type: ["string", "null"], description: "GPU UUID, stable across reboots." },
          pci_bus_id: { type: ["string", "null"], description: "PCI bus id domain:bus:device.function." },
        },
      },
    },
  },
};

function createBackend(options: NvidiaOptions, settings: Settings, logger: Logger): GpuBackend {
  const retryIntervalMs = options.retryInterval * 1000;
  const nvml = { libraryPath: options.libraryPath, retryIntervalMs, reopenDelayMs: options.reopenDelay * 1000 };
  const smi = { path: options.nvidiaSmiPath, intervalMs: settings.intervalMs, retryIntervalMs };
  if (options.backend === "nvml") return new NvmlBackend(nvml, logger);
  if (options.backend === "nvidia-smi") return new SmiBackend(smi, logger);
  return new AutoBackend(nvml, smi, logger);
}

export default definePlugin<NvidiaOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "collector",
  version: "0.1.0",
  description: "NVIDIA GPUs (gpu[]) through NVML in a worker thread, or one long-running nvidia-smi.",
  optionsSchema: OPTIONS_SCHEMA,
  fragmentSchema: FRAGMENT_SCHEMA,
  apply({ hooks, options, settings, logger }) {
    const backend = createBackend(options, settings, logger);
    hooks.start.tap(PLUGIN_NAME, () => backend.start());
    hooks.collect.tapPromise(PLUGIN_NAME, async (sample: Sample) => sample.merge({ gpu: await backend.read() }));
    hooks.stop.tapPromise(PLUGIN_NAME, () => backend.stop());
  },
});
