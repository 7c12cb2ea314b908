import { definePlugin, RUNTIME_API_VERSION, type JsonSchema, type Sample } from "@resourcemonitor/runtime";
import { CpuCollector, type CpuOptions } from "./collector.js";

export { CpuCollector, MIN_WINDOW_MS } from "./collector.js";
export type { CpuFragment, CpuOptions } from "./collector.js";
export { parseStat, usagePercent, perCoreUsage } from "./stat.js";
export type { CpuTimes, StatSnapshot } from "./stat.js";
export { parseCpuinfo, cpuinfoMhz, physicalCoresFromCpuinfo } from "./cpuinfo.js";
export { physicalCoresFromSysfs } from "./topology.js";
export { discoverFrequencySource, FrequencyReader, LIMITS_MAX_AGE_MS } from "./frequency.js";
export type { Frequency, FrequencySource, CpufreqDomain } from "./frequency.js";

const PLUGIN_NAME = "cpu";

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    perCore: {
      type: "boolean",
      default: true,
      description: "Report usage_per_core (one busy percentage per online CPU); false leaves it as [] and skips the per-CPU arithmetic.",
    },
  },
};

const PERCENT = { type: "number", minimum: 0, maximum: 100 };
const MHZ_OR_NULL = { type: ["number", "null"], minimum: 0 };
const COUNT_OR_NULL = { type: ["integer", "null"], minimum: 1 };

const FRAGMENT_SCHEMA: JsonSchema = {
  type: "object",
  required: ["cpu"],
  properties: {
    cpu: {
      type: "object",
      required: ["usage_percent", "usage_per_core", "frequency", "count_logical", "count_physical"],
      properties: {
        usage_percent: { ...PERCENT, type: ["number", "null"], description: "Busy share of all CPUs since the previous tick, percent, 1 decimal." },
        usage_per_core: { type: "array", items: PERCENT, description: "Busy share per online CPU, in /proc/stat order." },
        frequency: {
          type: "object",
          required: ["current", "min", "max"],
          properties: { current: MHZ_OR_NULL, min: MHZ_OR_NULL, max: MHZ_OR_NULL },
          description: "Mean over CPUs, MHz.",
        },
        count_logical: { ...COUNT_OR_NULL, description: "Online logical CPUs." },
        count_physical: { ...COUNT_OR_NULL, description: "Physical cores." },
      },
    },
  },
};

export default definePlugin<CpuOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "collector",
  version: "0.1.0",
  description: "CPU usage (total and per core, psutil's cpu_percent arithmetic), frequency and logical/physical counts from /proc and /sys.",
  optionsSchema: OPTIONS_SCHEMA,
  fragmentSchema: FRAGMENT_SCHEMA,
  apply({ hooks, options, settings, logger }) {
    const collector = new CpuCollector(settings.procfs, settings.sysfs, options, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => collector.start());
    hooks.stop.tap(PLUGIN_NAME, () => collector.stop());
    hooks.collect.tapPromise(PLUGIN_NAME, async (sample: Sample) => sample.merge({ cpu: await collector.read() }));
  },
});
