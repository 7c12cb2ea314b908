import { definePlugin, RUNTIME_API_VERSION, type JsonSchema, type Sample } from "@resourcemonitor/runtime";
import { ThermalCollector, type ThermalOptions } from "./collector.js";

export { ThermalCollector, REDISCOVERY_INTERVAL_MS, MIN_REDISCOVERY_GAP_MS } from "./collector.js";
export type { Temperature, ThermalFragment, ThermalOptions } from "./collector.js";
export { discoverSensors, discoverHwmonSensors, discoverThermalZoneSensors, tripThresholds, chipFilter } from "./discover.js";
export type { SensorSpec, SensorSource, Discovery, ChipFilter } from "./discover.js";
export { InputFile } from "./input.js";
export type { InputReading } from "./input.js";
export { parseMillidegrees, numberedEntries } from "./sysfs.js";

const PLUGIN_NAME = "thermal";

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    chips: {
      type: "array",
      items: { type: "string", minLength: 1 },
      uniqueItems: true,
      default: [],
      description:
        "Chips to report, by hwmon chip name (the `name` file, e.g. coretemp, k10temp, nvme, acpitz) or, when the " +
        "thermal-zone fallback is used, by zone type (e.g. cpu-thermal). Empty (the default) reports every chip, as the original agent did.",
    },
  },
};

const CELSIUS_OR_NULL = { type: ["number", "null"] };

const FRAGMENT_SCHEMA: JsonSchema = {
  type: "object",
  required: ["cpu"],
  properties: {
    cpu: {
      type: "object",
      required: ["temperatures"],
      properties: {
        temperatures: {
          type: "array",
          description: "One entry per temperature sensor; [] on a machine without sensors.",
          items: {
            type: "object",
            required: ["sensor", "temperature", "high", "critical"],
            properties: {
              sensor: { type: "string", minLength: 1, description: "<chip>_<label>, <chip>_temp<N> without a label, or <type>_thermal_zone<N>." },
              temperature: { type: "number", description: "Degrees Celsius." },
              high: { ...CELSIUS_OR_NULL, description: "Degrees Celsius: hwmon temp*_max, or a thermal zone's `hot` trip point; null if none." },
              critical: { ...CELSIUS_OR_NULL, description: "Degrees Celsius: hwmon temp*_crit, or a thermal zone's `critical` trip point; null if none." },
            },
          },
        },
      },
    },
  },
};

export default definePlugin<ThermalOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "collector",
  version: "0.1.0",
  description: "CPU and board temperatures (cpu.temperatures) from /sys/class/hwmon, falling back to /sys/class/thermal thermal zones.",
  optionsSchema: OPTIONS_SCHEMA,
  fragmentSchema: FRAGMENT_SCHEMA,
  apply({ hooks, options, settings, logger }) {
    const collector = new ThermalCollector(settings.sysfs, options, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => collector.start());
    hooks.collect.tapPromise(PLUGIN_NAME, async (sample: Sample) => sample.merge({ cpu: await collector.read() }));
    hooks.stop.tapPromise(PLUGIN_NAME, () => collector.stop());
  },
});
