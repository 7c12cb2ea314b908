import { LRUCache } from "lru-cache";
import { historyKeyTime, historyPrefix, keyTimestamp } from "@resourcemonitor/layout";
import type { GpuSeries, HistoryResponse } from "./api-types.js";
import { mapLimit } from "./concurrency.js";
import { summarize, type DocumentSummary } from "./extract.js";
import type { StoreView } from "./fleet.js";

/** A history object's summary, or null when it was no JSON; either way final, since history objects never change. */
export type HistoryCache = LRUCache<string, DocumentSummary | { unreadable: true }>;

/** An LRU of history summaries holding at most `maxBytes` (their JSON size). */
export function createHistoryCache(maxBytes: number): HistoryCache {
  return new LRUCache({ maxSize: maxBytes, sizeCalculation: (value) => JSON.stringify(value).length });
}

interface Entry {
  key: string;
  time: number;
}

/** A host's history keys from `from` to `coveredTo` (ms), listed in full at `listedAt` and extended since. */
interface KeyIndex {
  entries: Entry[];
  from: number;
  coveredTo: number;
  listedAt: number;
}

/** Per host, the keys already listed: a refresh lists only what came after them. */
export type KeyIndexCache = LRUCache<string, KeyIndex>;

/** Roughly what one listed key costs in memory (key text, time, array slot). */
const ENTRY_BYTES = 120;

export function createKeyIndexCache(maxBytes: number): KeyIndexCache {
  return new LRUCache({ maxSize: maxBytes, sizeCalculation: (index) => Math.max(1, index.entries.length * ENTRY_BYTES) });
}

/**
 * A range is listed in full this often at most; in between only newer keys are listed. A full listing
 * picks up keys written late into the past (an agent's spool replaying after an outage).
 */
const RELIST_MS = 60_000;

export interface HistoryOptions extends StoreView {
  intervalSeconds: number;
  staleAfterSeconds: number;
  cache: HistoryCache;
  keyIndex: KeyIndexCache;
  /** More samples than this in the range are thinned to one per step. */
  maxPoints: number;
}

/** Appends the keys of `folder` after `startAfter` from `from` to `to` (ms), in time order. */
async function listInto(entries: Entry[], { store }: StoreView, folder: string, startAfter: string, from: number, to: number): Promise<void> {
  for await (const key of store.list(folder, { startAfter })) {
    const time = historyKeyTime(key)?.getTime();
    if (time === undefined || time < from) continue;
    if (time > to) break;
    entries.push({ key, time });
  }
}

/**
 * The history keys of `host` from `from` to `to`, in time order. The first request lists from the range's
 * first key (`StartAfter`); later ones list only the keys after the newest already known.
 */
async function listRange(options: HistoryOptions, host: string, from: Date, to: Date): Promise<Entry[]> {
  const folder = historyPrefix(host, options.prefix);
  // A key names its second: the key of the second `from` falls in counts.
  const start = Math.floor(from.getTime() / 1000) * 1000;
  const end = to.getTime();
  const now = Date.now();
  let index = options.keyIndex.get(host);
  if (!index || index.from > start || now - index.listedAt > RELIST_MS) {
    // `<folder><YYYYMMDD_HHMMSS>` sorts just before that second's `.json` and `_n.json` keys.
    index = { entries: [], from: start, coveredTo: end, listedAt: now };
    await listInto(index.entries, options, folder, `${folder}${keyTimestamp(from)}`, start, end);
  } else if (end > index.coveredTo) {
    // A new index, not an edit of the cached one: two requests extending it at once cannot interleave.
    const last = index.entries.at(-1);
    const added: Entry[] = [];
    await listInto(added, options, folder, last ? last.key : `${folder}${keyTimestamp(new Date(index.from))}`, index.from, end);
    index = { ...index, entries: index.entries.concat(added), coveredTo: end };
  }
  options.keyIndex.set(host, index);
  return index.entries.filter(({ time }) => time >= start && time <= end);
}

/** One entry per `stepSeconds` bucket (aligned to the epoch, so a moving range keeps picking the same, cached, keys). */
function thin(entries: Entry[], from: Date, to: Date, maxPoints: number): { kept: Entry[]; stepSeconds: number } {
  if (entries.length <= maxPoints) return { kept: entries, stepSeconds: 0 };
  const stepSeconds = Math.ceil((to.getTime() - from.getTime()) / 1000 / maxPoints);
  let lastBucket = Number.NaN;
  const kept = entries.filter(({ time }) => {
    const bucket = Math.floor(time / 1000 / stepSeconds);
    if (bucket === lastBucket) return false;
    lastBucket = bucket;
    return true;
  });
  return { kept, stepSeconds };
}

async function readSummary(options: HistoryOptions, key: string): Promise<DocumentSummary | undefined> {
  const cached = options.cache.get(key);
  if (cached) return "unreadable" in cached ? undefined : cached;
  const object = await options.store.get(key);
  if (!object) return undefined; // listed, then gone (a lifecycle rule): nothing final to remember
  let summary: DocumentSummary | { unreadable: true };
  try {
    summary = summarize(JSON.parse(object.body));
  } catch {
    summary = { unreadable: true };
  }
  options.cache.set(key, summary);
  return "unreadable" in summary ? undefined : summary;
}

function lastNonNull<T>(values: (T | null)[]): T | null {
  for (let index = values.length - 1; index >= 0; index -= 1) if (values[index] != null) return values[index] as T;
  return null;
}

/** `count` columns of `length` values, each null until set. */
const columns = (count: number, length: number): (number | null)[][] => Array.from({ length: count }, () => new Array<number | null>(length).fill(null));

function cpuSeries(points: DocumentSummary[]): HistoryResponse["cpu"] {
  let cores = 0;
  let hasCpu = false;
  for (const point of points) {
    hasCpu ||= point.hasCpu;
    if (point.perCore.length > cores) cores = point.perCore.length;
  }
  if (!hasCpu) return null;
  const total = new Array<number | null>(points.length);
  const frequencyMhz = new Array<number | null>(points.length);
  const perCore = columns(cores, points.length);
  points.forEach((point, index) => {
    total[index] = point.cpuPercent;
    frequencyMhz[index] = point.frequencyMhz;
    point.perCore.forEach((value, core) => ((perCore[core] as (number | null)[])[index] = value));
  });
  return { total, cores: perCore, frequencyMhz };
}

function memorySeries(points: DocumentSummary[]): HistoryResponse["memory"] {
  if (!points.some((point) => point.hasMemory)) return null;
  const [percent, usedBytes, totalBytes, swapPercent, swapUsedBytes, swapTotalBytes] = columns(6, points.length) as [(number | null)[], (number | null)[], (number | null)[], (number | null)[], (number | null)[], (number | null)[]];
  points.forEach((point, index) => {
    percent[index] = point.memoryPercent;
    usedBytes[index] = point.memoryUsedBytes;
    totalBytes[index] = point.memoryTotalBytes;
    swapPercent[index] = point.swapPercent;
    swapUsedBytes[index] = point.swapUsedBytes;
    swapTotalBytes[index] = point.swapTotalBytes;
  });
  return { percent, usedBytes, totalBytes: lastNonNull(totalBytes), swapPercent, swapUsedBytes, swapTotalBytes: lastNonNull(swapTotalBytes) };
}

function temperatureSeries(points: DocumentSummary[]): HistoryResponse["temperatures"] {
  const position = new Map<string, number>();
  for (const point of points) for (const { sensor } of point.temperatures) if (!position.has(sensor)) position.set(sensor, position.size);
  if (position.size === 0) return null;
  const celsius = columns(position.size, points.length);
  points.forEach((point, index) => {
    // The first reading of a sensor in a document counts, as before.
    for (let entry = point.temperatures.length - 1; entry >= 0; entry -= 1) {
      const { sensor, celsius: value } = point.temperatures[entry] as DocumentSummary["temperatures"][number];
      (celsius[position.get(sensor) as number] as (number | null)[])[index] = value;
    }
  });
  return { sensors: [...position.keys()], celsius };
}

function gpuSeries(points: DocumentSummary[]): GpuSeries[] {
  const indexes = [...new Set(points.flatMap((point) => point.gpus.map((gpu) => gpu.index)))].sort((a, b) => a - b);
  return indexes.map((index) => {
    const gpus = points.map((point) => point.gpus.find((gpu) => gpu.index === index) ?? null);
    return {
      index,
      name: lastNonNull(gpus.map((gpu) => gpu?.name ?? null)),
      memoryTotalBytes: lastNonNull(gpus.map((gpu) => gpu?.memoryTotalBytes ?? null)),
      utilizationPercent: gpus.map((gpu) => gpu?.utilizationPercent ?? null),
      memoryPercent: gpus.map((gpu) => gpu?.memoryPercent ?? null),
      memoryUsedBytes: gpus.map((gpu) => gpu?.memoryUsedBytes ?? null),
      temperatureCelsius: gpus.map((gpu) => gpu?.temperatureCelsius ?? null),
      powerWatts: gpus.map((gpu) => gpu?.powerWatts ?? null),
    };
  });
}

/** Summaries of `entries` already in the cache (taken without a wait each), and the positions still to read. */
function fromCache(cache: HistoryCache, entries: Entry[]): { summaries: (DocumentSummary | undefined)[]; missing: number[] } {
  const summaries = new Array<DocumentSummary | undefined>(entries.length);
  const missing: number[] = [];
  entries.forEach(({ key }, index) => {
    const cached = cache.get(key);
    if (cached === undefined) missing.push(index);
    else summaries[index] = "unreadable" in cached ? undefined : cached;
  });
  return { summaries, missing };
}

/**
 * The host's samples from `from` to `to` as columns for charts, at most `wanted` of them (one per
 * step when there are more): listed once, read in parallel, summaries cached.
 */
export async function readHistory(options: HistoryOptions, host: string, from: Date, to: Date, wanted = options.maxPoints): Promise<HistoryResponse> {
  const listed = await listRange(options, host, from, to);
  const { kept, stepSeconds } = thin(listed, from, to, Math.min(wanted, options.maxPoints));
  const { summaries, missing } = fromCache(options.cache, kept);
  const read = await mapLimit(missing, options.concurrency, (index) => readSummary(options, (kept[index] as Entry).key));
  missing.forEach((position, index) => (summaries[position] = read[index]));
  const time: number[] = [];
  const points: DocumentSummary[] = [];
  summaries.forEach((summary, index) => {
    if (!summary) return;
    time.push((kept[index] as Entry).time / 1000);
    points.push(summary);
  });
  return {
    host,
    from: from.toISOString(),
    to: to.toISOString(),
    stepSeconds,
    listed: listed.length,
    time,
    cpu: cpuSeries(points),
    memory: memorySeries(points),
    temperatures: temperatureSeries(points),
    gpus: gpuSeries(points),
    skipped: kept.length - points.length,
    intervalSeconds: options.intervalSeconds,
    staleAfterSeconds: options.staleAfterSeconds,
  };
}
