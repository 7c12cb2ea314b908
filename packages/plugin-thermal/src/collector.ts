import { performance } from "node:perf_hooks";
import type { Logger } from "@resourcemonitor/runtime";
import { chipFilter, discoverSensors, type ChipFilter, type SensorSource, type SensorSpec } from "./discover.js";
import { InputFile } from "./input.js";

export interface ThermalOptions {
  /** Chip names (hwmon `name`, or thermal zone `type` on the fallback) to report; empty = all. */
  chips: string[];
}

export interface Temperature {
  sensor: string;
  /** Degrees Celsius. */
  temperature: number;
  high: number | null;
  critical: number | null;
}

/** What the plugin merges as `cpu` (next to the cpu plugin's fields). */
export interface ThermalFragment {
  temperatures: Temperature[];
}

/** New chips (hotplug, a driver loaded late) are picked up at the latest this long after the last discovery. */
export const REDISCOVERY_INTERVAL_MS = 5 * 60_000;
/** A sensor that went away triggers discovery on the next tick, but not more often than this (a flapping device). */
export const MIN_REDISCOVERY_GAP_MS = 10_000;

interface OpenSensor {
  readonly spec: SensorSpec;
  readonly input: InputFile;
  failing: boolean;
}

/** Finds the sensors, keeps their input files open and reads them each tick; one instance per loaded plugin. */
export class ThermalCollector {
  private readonly filter: ChipFilter;
  private sensors: OpenSensor[] = [];
  private source: SensorSource = "none";
  private discoveredAt: number | null = null;
  private sensorWentAway = false;
  private saidNoSensors = false;

  constructor(
    private readonly sysfs: string,
    private readonly options: ThermalOptions,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.filter = chipFilter(options.chips);
  }

  async start(): Promise<void> {
    this.discover();
  }

  async read(): Promise<ThermalFragment> {
    if (this.discoveryDue()) this.discover();
    const temperatures: Temperature[] = [];
    for (const sensor of this.sensors) {
      const reading = this.readSensor(sensor);
      if (reading !== null) temperatures.push({ sensor: sensor.spec.sensor, temperature: reading, high: sensor.spec.high, critical: sensor.spec.critical });
    }
    return { temperatures };
  }

  async stop(): Promise<void> {
    this.closeAll(this.sensors);
    this.sensors = [];
  }

  private discoveryDue(): boolean {
    if (this.discoveredAt === null) return true;
    const age = this.now() - this.discoveredAt;
    return age >= REDISCOVERY_INTERVAL_MS || (this.sensorWentAway && age >= MIN_REDISCOVERY_GAP_MS);
  }

  private discover(): void {
    const { source, sensors: specs } = discoverSensors(this.sysfs, this.filter);
    const previous = this.sensors;
    this.sensors = this.open(specs);
    this.closeAll(previous);
    this.reportDiscovery(source, previous);
    this.source = source;
    this.discoveredAt = this.now();
    this.sensorWentAway = false;
  }

  private open(specs: readonly SensorSpec[]): OpenSensor[] {
    const sensors: OpenSensor[] = [];
    for (const spec of specs) {
      const input = InputFile.open(spec.inputPath);
      if (input) sensors.push({ spec, input, failing: false });
      else this.logger.debug({ sensor: spec.sensor, path: spec.inputPath }, "temperature input cannot be opened; sensor skipped");
    }
    return sensors;
  }

  private closeAll(sensors: readonly OpenSensor[]): void {
    for (const sensor of sensors) sensor.input.close();
  }

  /** The reading in °C, or null when it failed this tick (the sensor is then left out, never reported as 0). */
  private readSensor(sensor: OpenSensor): number | null {
    const reading = sensor.input.read();
    if (reading.ok) {
      if (sensor.failing) this.logger.debug({ sensor: sensor.spec.sensor }, "temperature sensor readable again");
      sensor.failing = false;
      return reading.celsius;
    }
    if (reading.gone) this.sensorWentAway = true;
    if (!sensor.failing) {
      this.logger.debug({ sensor: sensor.spec.sensor, path: sensor.input.path, reason: reading.reason, gone: reading.gone }, "temperature sensor unreadable; left out");
    }
    sensor.failing = true;
    return null;
  }

  private reportDiscovery(source: SensorSource, previous: readonly OpenSensor[]): void {
    const names = this.sensors.map((sensor) => sensor.spec.sensor);
    if (this.sensors.length === 0 && !this.saidNoSensors) {
      this.saidNoSensors = true;
      const where = this.filter === null ? "no hwmon temp*_input, no thermal zone" : `none of the chips ${this.options.chips.join(", ")}`;
      this.logger.info({ sysfs: this.sysfs, chips: this.options.chips }, `no temperature sensors found (${where}); cpu.temperatures will be []`);
    }
    if (this.discoveredAt === null) {
      this.logger.debug({ source, sensors: names }, "thermal collector started");
    } else if (source !== this.source || !sameInputs(previous, this.sensors)) {
      this.logger.info({ source, sensors: names }, "temperature sensors changed");
    }
  }
}

/** Same files in the same order (names alone repeat: two NVMe drives are both `nvme_Composite`). */
function sameInputs(before: readonly OpenSensor[], after: readonly OpenSensor[]): boolean {
  return before.length === after.length && before.every((sensor, position) => sensor.input.path === after[position]?.input.path);
}
