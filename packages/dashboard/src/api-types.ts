/** The JSON the dashboard's API answers with; the page imports these types too. */

export interface GpuSummary {
  index: number;
  name: string | null;
  utilizationPercent: number | null;
  memoryPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureCelsius: number | null;
  powerWatts: number | null;
}

/** The figures a summary takes from one document; null where the document lacks them. */
export interface MetricFigures {
  cpuPercent: number | null;
  frequencyMhz: number | null;
  memoryPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  swapPercent: number | null;
  swapUsedBytes: number | null;
  swapTotalBytes: number | null;
  /** One entry per GPU; empty when the document has no GPU ("none" on the page). */
  gpus: GpuSummary[];
}

export interface HostSummary extends MetricFigures {
  host: string;
  /** The later of the host's list.json entry and its latest document's timestamp; null when neither is known. */
  lastSeen: string | null;
  ageSeconds: number | null;
  /** Not heard from for longer than `staleAfterSeconds` (or never): kept in the list, marked. */
  stale: boolean;
  /** Named in list.json (hosts that stopped reporting drop out of it after 5 minutes). */
  inList: boolean;
  /** The latest document's `timestamp`, null when there is no readable latest document. */
  timestamp: string | null;
  coreCount: number | null;
  /** The hottest CPU sensor; null when the document has no sensor ("none" on the page). */
  hottestCpu: { sensor: string; celsius: number } | null;
  /** Why the latest document could not be used, when it could not. */
  problem?: string;
}

export type ListState = "ok" | "missing" | "legacy" | "corrupt";

export interface FleetResponse {
  store: string;
  generatedAt: string;
  intervalSeconds: number;
  staleAfterSeconds: number;
  list: ListState;
  hosts: HostSummary[];
}

export interface GpuSeries {
  index: number;
  name: string | null;
  memoryTotalBytes: number | null;
  utilizationPercent: (number | null)[];
  memoryPercent: (number | null)[];
  memoryUsedBytes: (number | null)[];
  temperatureCelsius: (number | null)[];
  powerWatts: (number | null)[];
}

/** Column-wise history: `time[i]` goes with the i-th value of every series. A section no document had is null (or `gpus` empty). */
export interface HistoryResponse {
  host: string;
  from: string;
  to: string;
  /** Seconds between kept samples when the range held more than `maxPoints` (one per step), else 0. */
  stepSeconds: number;
  /** History objects in the range, and how many were read. */
  listed: number;
  /** Unix seconds of each sample. */
  time: number[];
  cpu: { total: (number | null)[]; cores: (number | null)[][]; frequencyMhz: (number | null)[] } | null;
  memory: {
    percent: (number | null)[];
    usedBytes: (number | null)[];
    totalBytes: number | null;
    swapPercent: (number | null)[];
    swapUsedBytes: (number | null)[];
    swapTotalBytes: number | null;
  } | null;
  temperatures: { sensors: string[]; celsius: (number | null)[][] } | null;
  gpus: GpuSeries[];
  /** Objects in the range that could not be read or parsed, skipped. */
  skipped: number;
  /** As in FleetResponse, so a page opened on a host knows them. */
  intervalSeconds: number;
  staleAfterSeconds: number;
  /** With `latest=1`: the host's latest document as stored, or null when it has none (or it is not JSON). */
  latest?: unknown;
}

export type StoreErrorCode = "access-denied" | "unreachable" | "no-such-bucket" | "no-credentials" | "store-error";

export interface ErrorResponse {
  error: { code: StoreErrorCode | "bad-request" | "not-found" | "page-not-built"; message: string; hint: string };
}

export const RANGES = { "15m": 15 * 60, "1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600 } as const;
export type RangeName = keyof typeof RANGES;
