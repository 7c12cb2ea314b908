import { LRUCache } from "lru-cache";
import { historyKeyTime, historyPrefix, keyTimestamp } from "@resourcemonitor/layout";
import type { GpuSeries, HistoryResponse } from "./api-types.js";
import { mapLimit } from "./concurrency.js";
import { summarize, type DocumentSummary } from "./extract.js";
import type { StoreView } from "./fleet.js";
import { sameShape, SampleRun, shapeOf, type AnswerHeader } from "./history-text.js";

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
  /**
   * Positions (`base` + index in `entries`) name the same key across the indexes of one generation: an
   * extension appends, and a full relisting that finds the keys it overlaps unchanged keeps the generation
   * (shifting `base` when it starts elsewhere). Sample runs (history-text.ts) are kept by position.
   */
  generation: number;
  base: number;
}

/** Per host, the keys already listed: a refresh lists only what came after them. */
export type KeyIndexCache = LRUCache<string, KeyIndex>;

/** Roughly what one listed key costs in memory (key text, time, array slot). */
const ENTRY_BYTES = 120;

export function createKeyIndexCache(maxBytes: number): KeyIndexCache {
  return new LRUCache({ maxSize: maxBytes, sizeCalculation: (index) => Math.max(1, index.entries.length * ENTRY_BYTES) });
}

/** Per host and thinning step, the samples last answered as JSON text per column, extended as keys come. */
export type RunCache = LRUCache<string, SampleRun>;

export function createRunCache(maxBytes: number): RunCache {
  return new LRUCache({ maxSize: maxBytes, sizeCalculation: (run) => Math.max(1, run.size) });
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
  /** Answers kept as text per column (readHistoryJson); without it every answer is built anew. */
  runs?: RunCache;
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

/** The first of `entries` (time-ordered) at or after `time`; `entries.length` when none. */
function firstAtOrAfter(entries: Entry[], time: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((entries[middle] as Entry).time < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

let generations = 0;

/**
 * The generation and base of a fresh full listing: the previous index's, when the keys both cover are the
 * same keys (at least one) and the previous covers nothing past the fresh one; else a new generation.
 */
function align(previous: KeyIndex | undefined, fresh: Pick<KeyIndex, "entries" | "from" | "coveredTo">): Pick<KeyIndex, "generation" | "base"> {
  if (previous && previous.coveredTo <= fresh.coveredTo) {
    const low = Math.max(previous.from, fresh.from);
    const old = [firstAtOrAfter(previous.entries, low), firstAtOrAfter(previous.entries, previous.coveredTo + 1)] as const;
    const now = [firstAtOrAfter(fresh.entries, low), firstAtOrAfter(fresh.entries, previous.coveredTo + 1)] as const;
    let same = old[1] > old[0] && old[1] - old[0] === now[1] - now[0];
    for (let offset = 0; same && offset < old[1] - old[0]; offset += 1) same = (previous.entries[old[0] + offset] as Entry).key === (fresh.entries[now[0] + offset] as Entry).key;
    if (same) return { generation: previous.generation, base: previous.base + old[0] - now[0] };
  }
  generations += 1;
  return { generation: generations, base: 0 };
}

/** The host's key index, and where the range's keys are in it (`first` to `end`, exclusive). */
interface Listed {
  index: KeyIndex;
  first: number;
  end: number;
}

/**
 * The history keys of `host` from `from` to `to`, in time order. The first request lists from the range's
 * first key (`StartAfter`); later ones list only the keys after the newest already known.
 */
async function listRange(options: HistoryOptions, host: string, from: Date, to: Date): Promise<Listed> {
  const folder = historyPrefix(host, options.prefix);
  // A key names its second: the key of the second `from` falls in counts.
  const start = Math.floor(from.getTime() / 1000) * 1000;
  const end = to.getTime();
  const now = Date.now();
  const previous = options.keyIndex.get(host);
  let index = previous;
  if (!index || index.from > start || now - index.listedAt > RELIST_MS) {
    // `<folder><YYYYMMDD_HHMMSS>` sorts just before that second's `.json` and `_n.json` keys.
    const entries: Entry[] = [];
    await listInto(entries, options, folder, `${folder}${keyTimestamp(from)}`, start, end);
    const fresh = { entries, from: start, coveredTo: end, listedAt: now };
    index = { ...fresh, ...align(previous, fresh) };
  } else if (end > index.coveredTo) {
    // A new index, not an edit of the cached one: two requests extending it at once cannot interleave.
    const last = index.entries.at(-1);
    const added: Entry[] = [];
    await listInto(added, options, folder, last ? last.key : `${folder}${keyTimestamp(new Date(index.from))}`, index.from, end);
    index = { ...index, entries: index.entries.concat(added), coveredTo: end };
  }
  options.keyIndex.set(host, index);
  return { index, first: firstAtOrAfter(index.entries, start), end: firstAtOrAfter(index.entries, end + 1) };
}

/** The clock-aligned bucket of `entry` at `stepSeconds`. */
const bucketOf = (entry: Entry, stepSeconds: number) => Math.floor(entry.time / 1000 / stepSeconds);

/**
 * Whether thinning at `stepSeconds` keeps entry `position` of a range that starts before it: the first
 * entry of each step-long bucket (aligned to the epoch, so a moving range keeps picking the same, cached,
 * keys); every entry when `stepSeconds` is 0.
 */
function keeps(entries: Entry[], position: number, stepSeconds: number): boolean {
  return stepSeconds === 0 || bucketOf(entries[position] as Entry, stepSeconds) !== bucketOf(entries[position - 1] as Entry, stepSeconds);
}

/** The kept entries of a range: its first, then the first of each later bucket. */
function thin({ index, first, end }: Listed, stepSeconds: number): { kept: Entry[]; positions: number[] } {
  const kept: Entry[] = [];
  const positions: number[] = [];
  for (let position = first; position < end; position += 1) {
    if (position > first && !keeps(index.entries, position, stepSeconds)) continue;
    kept.push(index.entries[position] as Entry);
    positions.push(position);
  }
  return { kept, positions };
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

/** What an answer for `from` to `to` keeps of the listed range, and says besides its samples. */
function planOf(options: HistoryOptions, listed: Listed, host: string, from: Date, to: Date, wanted: number): { stepSeconds: number; header: Omit<AnswerHeader, "skipped"> } {
  const count = listed.end - listed.first;
  const maxPoints = Math.min(wanted, options.maxPoints);
  const stepSeconds = count <= maxPoints ? 0 : Math.ceil((to.getTime() - from.getTime()) / 1000 / maxPoints);
  const header = { host, from: from.toISOString(), to: to.toISOString(), stepSeconds, listed: count, intervalSeconds: options.intervalSeconds, staleAfterSeconds: options.staleAfterSeconds };
  return { stepSeconds, header };
}

/** The answer built from every kept sample's summary (read from the cache or the store). */
async function build(options: HistoryOptions, listed: Listed, stepSeconds: number, header: Omit<AnswerHeader, "skipped">) {
  const { kept, positions } = thin(listed, stepSeconds);
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
  const response: HistoryResponse = {
    host: header.host,
    from: header.from,
    to: header.to,
    stepSeconds,
    listed: header.listed,
    time,
    cpu: cpuSeries(points),
    memory: memorySeries(points),
    temperatures: temperatureSeries(points),
    gpus: gpuSeries(points),
    skipped: kept.length - points.length,
    intervalSeconds: header.intervalSeconds,
    staleAfterSeconds: header.staleAfterSeconds,
  };
  return { response, kept, positions, summaries };
}

/**
 * The host's samples from `from` to `to` as columns for charts, at most `wanted` of them (one per
 * step when there are more): listed once, read in parallel, summaries cached.
 */
export async function readHistory(options: HistoryOptions, host: string, from: Date, to: Date, wanted = options.maxPoints): Promise<HistoryResponse> {
  const listed = await listRange(options, host, from, to);
  const { stepSeconds, header } = planOf(options, listed, host, from, to, wanted);
  return (await build(options, listed, stepSeconds, header)).response;
}

const runKey = (host: string, stepSeconds: number) => `${host}/${stepSeconds}`;

/** Drop runs that would be cut to less than this, or to less than half of themselves. */
const RUN_TRIM = 1024;

/**
 * The answer from the host's run at this step, extended by the keys listed since: undefined when there is
 * no run for this range, or a sample that cannot join it (unreadable, gone, or of another shape).
 */
async function fromRun(options: HistoryOptions, runs: RunCache, host: string, listed: Listed, stepSeconds: number, header: Omit<AnswerHeader, "skipped">): Promise<Buffer | undefined> {
  const { index, first, end } = listed;
  const key = runKey(host, stepSeconds);
  const run = runs.get(key);
  // Absolute positions: the range's first sample, and the end of the range.
  const start = index.base + first;
  const stop = index.base + end;
  const usable = () => run !== undefined && runs.get(key) === run && run.generation === index.generation && run.scanFrom <= start + 1 && run.scanTo >= start + 1;
  if (!usable() || !run) return undefined;
  const scanTo = run.scanTo;
  const added: number[] = [];
  for (let position = scanTo; position < stop; position += 1) if (keeps(index.entries, position - index.base, stepSeconds)) added.push(position - index.base);
  const firstKnown = run.positions[run.find(start)] === start;
  const wanted = firstKnown ? added : [first, ...added];
  const summaries = await mapLimit(wanted, options.concurrency, (position) => readSummary(options, (index.entries[position] as Entry).key));
  // Another request may have changed the run meanwhile: then build this answer anew.
  if (!usable() || run.scanTo !== scanTo || summaries.some((summary) => summary === undefined || !sameShape(run.shape, summary))) return undefined;
  const firstSample = firstKnown ? undefined : { time: (index.entries[first] as Entry).time, summary: summaries.shift() as DocumentSummary };
  added.forEach((position, offset) => run.append(index.base + position, (index.entries[position] as Entry).time, summaries[offset] as DocumentSummary));
  run.scanTo = Math.max(run.scanTo, stop);
  const from = run.find(firstKnown ? start : start + 1);
  const answer = run.answer({ ...header, skipped: 0 }, from, run.find(stop), firstSample);
  if (from > RUN_TRIM && from > run.length / 2) run.drop(from);
  runs.set(key, run); // its size changed
  return answer;
}

/** Starts a run from an answer built anew: its samples after the first, when all are readable and of one shape. */
function seedRun(runs: RunCache, host: string, listed: Listed, stepSeconds: number, built: Awaited<ReturnType<typeof build>>): void {
  const { index, first, end } = listed;
  const summaries = built.summaries.slice(1);
  const shape = summaries[0] ? shapeOf(summaries[0]) : undefined;
  if (!shape || summaries.some((summary) => summary === undefined || !sameShape(shape, summary))) return void runs.delete(runKey(host, stepSeconds));
  const samples = summaries.map((summary, offset) => ({ position: index.base + (built.positions[offset + 1] as number), time: (built.kept[offset + 1] as Entry).time, summary: summary as DocumentSummary }));
  runs.set(runKey(host, stepSeconds), SampleRun.of(shape, index.generation, index.base + first + 1, index.base + end, samples));
}

/**
 * The history answer as JSON (UTF-8): as readHistory's, but a range that moved since the last answer at its
 * step is cut from that answer's text and the samples listed since (options.runs), not built anew.
 */
export async function readHistoryJson(options: HistoryOptions, host: string, from: Date, to: Date, wanted = options.maxPoints): Promise<Buffer> {
  const listed = await listRange(options, host, from, to);
  const { stepSeconds, header } = planOf(options, listed, host, from, to, wanted);
  const { runs } = options;
  if (runs && listed.end > listed.first) {
    const answer = await fromRun(options, runs, host, listed, stepSeconds, header);
    if (answer !== undefined) return answer;
  }
  const built = await build(options, listed, stepSeconds, header);
  if (runs) seedRun(runs, host, listed, stepSeconds, built);
  return Buffer.from(JSON.stringify(built.response));
}
