import { roundPercent } from "@resourcemonitor/runtime";

/** /proc/meminfo as a map of field name to bytes (psutil: the first token after the colon, times 1024). */
export type Meminfo = Map<string, number>;

export function parseMeminfo(text: string): Meminfo {
  const fields: Meminfo = new Map();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    // Split on the colon, not on whitespace: `ShadowCallStack:10373888 kB` has no space after it.
    const value = Number(line.slice(colon + 1).trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) fields.set(line.slice(0, colon), value * 1024);
  }
  return fields;
}

/** Sum of the `low` watermarks (pages) of every zone in /proc/zoneinfo. */
export function sumLowWatermarks(zoneinfo: string): number {
  let pages = 0;
  for (const line of zoneinfo.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "low" && words.length >= 2) pages += Number(words[1]) || 0;
  }
  return pages;
}

export interface VirtualMemory {
  total: number;
  available: number;
  used: number;
  percent: number;
  free: number;
}

export interface SwapMemory {
  total: number | null;
  used: number | null;
  free: number | null;
  percent: number | null;
}

/**
 * The kernel 3.14 MemAvailable estimate, for kernels without the field (or reading 0), as psutil rebuilds it.
 * `zoneinfo` is undefined when it could not be read; then, or when an input is missing, MemFree + Cached.
 */
export function estimateAvailable(fields: Meminfo, zoneinfo: string | undefined, pageSize: number): number {
  const free = fields.get("MemFree") ?? 0;
  const activeFile = fields.get("Active(file)");
  const inactiveFile = fields.get("Inactive(file)");
  const reclaimable = fields.get("SReclaimable");
  if (zoneinfo === undefined || activeFile === undefined || inactiveFile === undefined || reclaimable === undefined) {
    return free + (fields.get("Cached") ?? 0);
  }
  const low = sumLowWatermarks(zoneinfo) * pageSize;
  const pageCache = activeFile + inactiveFile;
  return Math.trunc(free - low + pageCache - Math.min(pageCache / 2, low) + reclaimable - Math.min(reclaimable / 2, low));
}

/** psutil >= 7.1 virtual_memory(): used = total - available, as procps-ng `free` computes it. */
export function virtualMemory(fields: Meminfo, available: number): VirtualMemory {
  const total = fields.get("MemTotal") ?? 0;
  const free = fields.get("MemFree") ?? 0;
  let usable = Math.max(0, available);
  if (usable > total) usable = free; // a container showing the host's figures: psutil falls back to MemFree
  return { total, available: usable, used: total - usable, percent: total === 0 ? 0 : roundPercent(((total - usable) / total) * 100), free };
}

/** psutil swap_memory(); null fields when /proc/meminfo has no swap lines at all. */
export function swapMemory(fields: Meminfo): SwapMemory {
  const total = fields.get("SwapTotal");
  const free = fields.get("SwapFree");
  if (total === undefined || free === undefined) return { total: null, used: null, free: null, percent: null };
  const used = total - free;
  return { total, used, free, percent: total === 0 ? 0 : roundPercent((used / total) * 100) };
}
