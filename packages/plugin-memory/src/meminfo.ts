import { roundPercent } from "@resourcemonitor/runtime";

/** /proc/meminfo as a map of field name to bytes (psutil: the first token after the colon, times 1024). */
export type Meminfo = Map<string, number>;

const SPACE = 32;
const TAB = 9;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

const CR = 13;

/**
 * `Name: <digits>` at the start of a line, the digits ending at whitespace or the line's end. The colon, not
 * whitespace, ends the name: `ShadowCallStack:10373888 kB` has no space after it. Scanned by character codes:
 * this runs every tick, and a regular expression's match objects were a fifth of what a tick allocated.
 * With `names`, only those lines are looked up (by indexOf) and scanned: the collector needs 9 of ~55 lines,
 * and scanning every line's digits was 0.17 ms/s of the agent's profile at 1 Hz (interpreted, never optimized).
 */
export function parseMeminfo(text: string, names?: readonly string[]): Meminfo {
  const fields: Meminfo = new Map();
  if (names) {
    for (const name of names) {
      const start = lineStartOf(text, `${name}:`);
      if (start >= 0) addField(fields, text, start, start + name.length);
    }
    return fields;
  }
  for (let start = 0; start < text.length; ) {
    const end = lineEnd(text, start);
    const colon = text.indexOf(":", start);
    if (colon > start && colon < end) addField(fields, text, start, colon);
    start = end + 1;
  }
  return fields;
}

function lineEnd(text: string, start: number): number {
  const end = text.indexOf("\n", start);
  return end < 0 ? text.length : end;
}

/** Where the line starting with `head` begins, or -1. */
function lineStartOf(text: string, head: string): number {
  if (text.startsWith(head)) return 0;
  const found = text.indexOf(`\n${head}`);
  return found < 0 ? -1 : found + 1;
}

/**
 * The character tests are written out, not helper functions: unoptimized, a call per character was most of
 * this parser's work.
 */
function addField(fields: Meminfo, text: string, start: number, colon: number): void {
  let first = colon + 1;
  let code = text.charCodeAt(first);
  while (code === SPACE || code === TAB) code = text.charCodeAt((first += 1));
  let last = first;
  while (code >= DIGIT_0 && code <= DIGIT_9) code = text.charCodeAt((last += 1));
  // The digits end the line (NaN past the text's end) or a space follows them (what `\s` matches: tab to CR, space).
  const ended = Number.isNaN(code) || code === SPACE || (code >= TAB && code <= CR);
  if (last > first && ended) fields.set(text.slice(start, colon), Number(text.slice(first, last)) * 1024);
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

/** psutil's usage_percent: rounded to 1 decimal as Python's round() does, and 0.0 (not NaN) for a zero total. */
function percentOf(part: number, total: number): number {
  return total === 0 ? 0 : roundPercent((part / total) * 100);
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

/** What the kernel 3.14 MemAvailable estimate needs from meminfo; undefined when a field is missing (kernel < 2.6.28). */
export interface EstimateInputs {
  free: number;
  pageCache: number;
  reclaimable: number;
}

export function estimateInputs(fields: Meminfo): EstimateInputs | undefined {
  const free = fields.get("MemFree");
  const activeFile = fields.get("Active(file)");
  const inactiveFile = fields.get("Inactive(file)");
  const reclaimable = fields.get("SReclaimable");
  if (free === undefined || activeFile === undefined || inactiveFile === undefined || reclaimable === undefined) return undefined;
  return { free, pageCache: activeFile + inactiveFile, reclaimable };
}

/** The kernel 3.14 MemAvailable estimate (kernel commit 34e431b0ae39), as psutil rebuilds it; bytes, truncated. */
export function kernelEstimate({ free, pageCache, reclaimable }: EstimateInputs, zoneinfo: string, pageSize: number): number {
  const low = sumLowWatermarks(zoneinfo) * pageSize;
  return Math.trunc(free - low + pageCache - Math.min(pageCache / 2, low) + reclaimable - Math.min(reclaimable / 2, low));
}

/** psutil's last resort when the estimate's inputs are missing: MemFree + Cached (Cached without SReclaimable). */
export function freePlusCached(fields: Meminfo): number {
  return (fields.get("MemFree") ?? 0) + (fields.get("Cached") ?? 0);
}

/**
 * psutil >= 7.1 virtual_memory(): used = total - available, as procps-ng `free` computes it.
 * `available` is MemAvailable or its estimate; `free` is MemFree.
 */
export function virtualMemory(total: number, free: number, available: number): VirtualMemory {
  let usable = Math.max(0, available);
  if (usable > total) usable = free; // a container showing the host's figures: psutil falls back to MemFree
  return { total, available: usable, used: total - usable, percent: percentOf(total - usable, total), free };
}

/**
 * psutil swap_memory(): used = SwapTotal - SwapFree. A missing line gives null (psutil would ask sysinfo(2) about
 * the live kernel, which is wrong when procfs is another root), and so do used and percent, which need both.
 */
export function swapMemory(fields: Meminfo): SwapMemory {
  const total = fields.get("SwapTotal") ?? null;
  const free = fields.get("SwapFree") ?? null;
  if (total === null || free === null) return { total, used: null, free, percent: null };
  const used = total - free;
  return { total, used, free, percent: percentOf(used, total) };
}
