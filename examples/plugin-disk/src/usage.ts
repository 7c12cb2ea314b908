import type { StatsFs } from "node:fs";
import { roundPercent } from "@resourcemonitor/runtime";

/** Space of one mount in bytes, as `df` and psutil's disk_usage count it. */
export interface Usage {
  total: number | null;
  used: number | null;
  free: number | null;
  percent: number | null;
}

export const UNKNOWN_USAGE: Usage = { total: null, used: null, free: null, percent: null };

/**
 * total = blocks; used = blocks - bfree; free = bavail (what an unprivileged user may still write, so
 * used + free < total by the reserved blocks); percent = used / (used + free), as df and psutil report it.
 */
export function usageFromStatfs(stats: Pick<StatsFs, "bsize" | "blocks" | "bfree" | "bavail">): Usage {
  const total = stats.blocks * stats.bsize;
  const used = (stats.blocks - stats.bfree) * stats.bsize;
  const free = stats.bavail * stats.bsize;
  const percent = used + free > 0 ? roundPercent((used / (used + free)) * 100) : 0;
  return { total, used, free, percent };
}
