import { roundPercent } from "@resourcemonitor/runtime";
/**
 * CPU time counters from /proc/stat and psutil's cpu_percent arithmetic on two snapshots of them.
 * Columns: user nice system idle iowait irq softirq steal guest guest_nice (kernels print 4 to 10 of them).
 */

const FIELD_COUNT = 10;
const MIN_FIELDS = 4;
const IDLE = 3;
const IOWAIT = 4;
const GUEST = 8;
const GUEST_NICE = 9;

/** The ten counters of one `cpu` line, in clock ticks; columns the kernel does not print are 0. */
export type CpuTimes = readonly number[];

export interface StatSnapshot {
  /** The aggregate `cpu ` line. */
  total: CpuTimes;
  /** The `cpuN` lines in file order (offline CPUs are simply absent, so the index is not N). */
  perCpu: CpuTimes[];
}

/**
 * The counters after the line's name. Loops, not map/some/reduce with callbacks, here and in usagePercent: the
 * agent runs unoptimized, where each callback is an interpreted call, ten per counter list.
 */
function parseCounters(fields: string[]): CpuTimes | null {
  if (fields.length - 1 < MIN_FIELDS) return null;
  const counters: number[] = [];
  for (let field = 1; field <= FIELD_COUNT; field += 1) {
    const value = field < fields.length ? Number(fields[field]) : 0;
    if (!Number.isFinite(value)) return null;
    counters.push(value);
  }
  return counters;
}

/** Parses the `cpu` lines of /proc/stat; every other line (`intr`, `ctxt`, ...) is ignored. Null without an aggregate line. */
export function parseStat(text: string): StatSnapshot | null {
  let total: CpuTimes | null = null;
  const perCpu: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const fields = line.trim().split(/\s+/);
    const counters = parseCounters(fields);
    if (!counters) continue;
    if (fields[0] === "cpu") total = counters;
    else if (/^cpu\d+$/.test(fields[0] ?? "")) perCpu.push(counters);
  }
  return total ? { total, perCpu } : null;
}

/**
 * Busy share between two snapshots of one line, psutil's cpu_percent: a counter that went backwards counts 0;
 * guest and guest_nice leave the total (the kernel already counts them in user and nice); idle and iowait are
 * not busy, steal is. 0.0 when no time passed.
 */
export function usagePercent(before: CpuTimes, after: CpuTimes): number {
  let total = 0;
  let idle = 0;
  for (let field = 0; field < after.length; field += 1) {
    if (field === GUEST || field === GUEST_NICE) continue;
    const delta = Math.max(0, (after[field] as number) - (before[field] ?? 0));
    total += delta;
    if (field === IDLE || field === IOWAIT) idle += delta;
  }
  const busy = total - idle;
  // Only reachable when guest time grew while user/nice went backwards; psutil would report a meaningless ratio.
  if (total <= 0 || busy < 0) return 0;
  return roundPercent((busy / total) * 100);
}

/** Per-CPU usage, pairing the two snapshots' lines by position and cut to the shorter list (as psutil's zip does). */
export function perCoreUsage(before: readonly CpuTimes[], after: readonly CpuTimes[]): number[] {
  const count = Math.min(before.length, after.length);
  const usage: number[] = [];
  for (let index = 0; index < count; index += 1) usage.push(usagePercent(before[index] ?? [], after[index] ?? []));
  return usage;
}
