import { join } from "node:path";
import { isDirectory, listDirectory, numberedEntries, readMillidegrees, readTrimmed } from "./sysfs.js";

/** One temperature sensor as found at discovery: what to call it, where its reading is, its fixed thresholds. */
export interface SensorSpec {
  readonly sensor: string;
  readonly inputPath: string;
  /** Degrees Celsius, or null when the hardware reports none. */
  readonly high: number | null;
  readonly critical: number | null;
}

export type SensorSource = "hwmon" | "thermal_zone" | "none";

export interface Discovery {
  readonly source: SensorSource;
  readonly sensors: SensorSpec[];
}

/** null = every chip; else only chips (hwmon `name`, or thermal zone `type`) in the set. */
export type ChipFilter = ReadonlySet<string> | null;

export function chipFilter(chips: readonly string[]): ChipFilter {
  return chips.length === 0 ? null : new Set(chips);
}

function accepts(filter: ChipFilter, chip: string): boolean {
  return filter === null || filter.has(chip);
}

/** hwmon first; thermal zones only when hwmon gives no sensor at all (the kernel mirrors most zones into hwmon). */
export function discoverSensors(sysfs: string, filter: ChipFilter): Discovery {
  const hwmon = discoverHwmonSensors(sysfs, filter);
  if (hwmon.length > 0) return { source: "hwmon", sensors: hwmon };
  const zones = discoverThermalZoneSensors(sysfs, filter);
  if (zones.length > 0) return { source: "thermal_zone", sensors: zones };
  return { source: "none", sensors: [] };
}

export function discoverHwmonSensors(sysfs: string, filter: ChipFilter): SensorSpec[] {
  const classDirectory = join(sysfs, "class", "hwmon");
  const sensors: SensorSpec[] = [];
  for (const { name } of numberedEntries(listDirectory(classDirectory), /^hwmon(\d+)$/)) {
    for (const directory of attributeDirectories(join(classDirectory, name))) {
      sensors.push(...chipSensors(directory, filter));
    }
  }
  return sensors;
}

/**
 * The hwmon directory, and its `device` parent where old kernels keep `name` and `temp*` (psutil looks in both).
 * Only these two are listed, never anything below them: `device` links point back up the tree and make cycles.
 */
function attributeDirectories(hwmonDirectory: string): string[] {
  return [hwmonDirectory, join(hwmonDirectory, "device")].filter(isDirectory);
}

/** A directory without a `name` file has no chip name and is skipped, as psutil does. */
function chipSensors(directory: string, filter: ChipFilter): SensorSpec[] {
  const chip = readTrimmed(join(directory, "name"));
  if (chip === null || !accepts(filter, chip)) return [];
  return numberedEntries(listDirectory(directory), /^temp(\d+)_input$/).map(({ index }) => hwmonSensor(directory, chip, index));
}

function hwmonSensor(directory: string, chip: string, index: number): SensorSpec {
  const attribute = (suffix: string) => join(directory, `temp${index}_${suffix}`);
  const label = readTrimmed(attribute("label")) ?? `temp${index}`;
  return {
    sensor: `${chip}_${label}`,
    inputPath: attribute("input"),
    high: readMillidegrees(attribute("max")),
    critical: readMillidegrees(attribute("crit")),
  };
}

export function discoverThermalZoneSensors(sysfs: string, filter: ChipFilter): SensorSpec[] {
  const classDirectory = join(sysfs, "class", "thermal");
  const sensors: SensorSpec[] = [];
  for (const { name, index } of numberedEntries(listDirectory(classDirectory), /^thermal_zone(\d+)$/)) {
    const directory = join(classDirectory, name);
    const type = isDirectory(directory) ? readTrimmed(join(directory, "type")) : null;
    if (type === null || !accepts(filter, type)) continue;
    sensors.push({ sensor: `${type}_thermal_zone${index}`, inputPath: join(directory, "temp"), ...tripThresholds(directory) });
  }
  return sensors;
}

/**
 * critical = the first trip point of type `critical`; high = the first of type `hot` (the kernel's last warning
 * before critical). psutil looks for a type `high`, which the kernel never prints, so its `high` is always a copy
 * of critical; `passive` and `active` trips are cooling steps, not limits, and are not reported.
 */
export function tripThresholds(zoneDirectory: string): Pick<SensorSpec, "high" | "critical"> {
  let high: number | null = null;
  let critical: number | null = null;
  for (const { index } of numberedEntries(listDirectory(zoneDirectory), /^trip_point_(\d+)_type$/)) {
    const type = readTrimmed(join(zoneDirectory, `trip_point_${index}_type`));
    if (type !== "hot" && type !== "critical") continue;
    const temperature = readMillidegrees(join(zoneDirectory, `trip_point_${index}_temp`));
    if (type === "hot") high ??= temperature;
    else critical ??= temperature;
  }
  return { high, critical };
}
