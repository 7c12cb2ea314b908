import { join } from "node:path";
import { listDirectory, readText } from "./read.js";

const CPU_DIRECTORY = /^cpu\d+$/;

/** `<sysfs>/devices/system/cpu/cpuN` directories, in CPU order. */
export function cpuDirectories(sysfs: string): string[] {
  const base = join(sysfs, "devices/system/cpu");
  return listDirectory(base)
    .filter((name) => CPU_DIRECTORY.test(name))
    .sort((left, right) => Number(left.slice(3)) - Number(right.slice(3)))
    .map((name) => join(base, name));
}

function topologyValues(cpus: readonly string[], attribute: string): string[] {
  const values: string[] = [];
  for (const cpu of cpus) {
    const value = readText(join(cpu, "topology", attribute))?.trim();
    if (value) values.push(value);
  }
  return values;
}

function distinctCount(values: readonly string[]): number {
  return new Set(values).size;
}

/**
 * Physical cores from sysfs topology: the distinct CPU lists sharing a core (`core_cpus_list`, called
 * `thread_siblings_list` before Linux 5.3), else distinct (physical_package_id, core_id) pairs (core ids repeat
 * across packages). Null when sysfs has none of these. Offline CPUs have no topology directory.
 */
export function physicalCoresFromSysfs(sysfs: string): number | null {
  const cpus = cpuDirectories(sysfs);
  for (const attribute of ["core_cpus_list", "thread_siblings_list"]) {
    const lists = topologyValues(cpus, attribute);
    if (lists.length > 0) return distinctCount(lists);
  }
  const pairs: string[] = [];
  for (const cpu of cpus) {
    const packageId = readText(join(cpu, "topology/physical_package_id"))?.trim();
    const coreId = readText(join(cpu, "topology/core_id"))?.trim();
    if (packageId && coreId) pairs.push(`${packageId}/${coreId}`);
  }
  return distinctCount(pairs) || null;
}
