import { definePlugin, RUNTIME_API_VERSION, type JsonSchema } from "@resourcemonitor/runtime";
import { MemoryCollector } from "./collector.js";

export { MemoryCollector } from "./collector.js";
export type { MemoryFragment } from "./collector.js";
export { parseMeminfo, sumLowWatermarks, estimateInputs, kernelEstimate, freePlusCached, virtualMemory, swapMemory } from "./meminfo.js";
export { hostPageSize, pageSizeFromAuxv } from "./pagesize.js";
export type { Meminfo, EstimateInputs, VirtualMemory, SwapMemory } from "./meminfo.js";

const PLUGIN_NAME = "memory";

const BYTES = { type: "integer", minimum: 0 };
const PERCENT = { type: "number", minimum: 0, maximum: 100 };
const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type, "null"] });

const FRAGMENT_SCHEMA: JsonSchema = {
  type: "object",
  required: ["memory"],
  properties: {
    memory: {
      type: "object",
      required: ["virtual", "swap"],
      properties: {
        virtual: {
          type: "object",
          required: ["total", "available", "used", "percent", "free"],
          description: "RAM, bytes; used = total - available (psutil >= 7.1, procps-ng free).",
          properties: { total: BYTES, available: BYTES, used: BYTES, percent: PERCENT, free: BYTES },
        },
        swap: {
          type: "object",
          required: ["total", "used", "free", "percent"],
          description: "Swap, bytes; used = SwapTotal - SwapFree. A field is null when its meminfo line is missing (used and percent need both).",
          properties: { total: nullable(BYTES), used: nullable(BYTES), free: nullable(BYTES), percent: nullable(PERCENT) },
        },
      },
    },
  },
};

export default definePlugin<Record<string, never>>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "collector",
  version: "0.1.0",
  description: "RAM and swap from /proc/meminfo, with psutil's (>= 7.1) definitions.",
  optionsSchema: { type: "object", additionalProperties: false, properties: {} },
  fragmentSchema: FRAGMENT_SCHEMA,
  apply({ hooks, settings, logger }) {
    const collector = new MemoryCollector(settings.procfs, logger);
    hooks.collect.tapPromise(PLUGIN_NAME, async (sample) => sample.merge({ memory: collector.read() }));
    hooks.stop.tap(PLUGIN_NAME, () => collector.stop());
  },
});
