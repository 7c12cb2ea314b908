import { HISTORY_FOLDER, hostnameProblem, LIST_KEY, listKey, latestKey, readHostList, type ObjectStore } from "@resourcemonitor/layout";
import type { FleetResponse, HostSummary, ListState } from "./api-types.js";
import { mapLimit } from "./concurrency.js";
import { hottest, summarize, type DocumentSummary } from "./extract.js";

export interface StoreView {
  store: ObjectStore;
  /** Normalized key prefix (`""` or ending in `/`). */
  prefix: string;
  /** Store reads in flight at most, per request. */
  concurrency: number;
}

export interface FleetOptions extends StoreView {
  intervalSeconds: number;
  staleAfterSeconds: number;
  now?: number;
}

/** Past every key under `history/`: no valid UTF-8 continues `history/` with bytes above U+10FFFF's. */
const AFTER_HISTORY = `${HISTORY_FOLDER}/\u{10FFFF}`;

/**
 * Hosts with a `<host>.json` at the top of the store. list.json forgets a host 5 minutes after its
 * last upload; its latest document stays, so this is how hosts that stopped reporting are still shown.
 * The history folder holds nearly every key and is skipped with a second listing that starts past it.
 */
async function hostsWithLatest({ store, prefix }: StoreView): Promise<string[]> {
  const hosts: string[] = [];
  const take = (key: string) => {
    const rest = key.slice(prefix.length);
    if (!rest.endsWith(".json") || rest.includes("/") || rest === LIST_KEY) return;
    const name = rest.slice(0, -".json".length);
    if (!hostnameProblem(name)) hosts.push(name);
  };
  const historyStart = `${prefix}${HISTORY_FOLDER}/`;
  for await (const key of store.list(prefix)) {
    if (key.startsWith(historyStart)) break;
    take(key);
  }
  for await (const key of store.list(prefix, { startAfter: `${prefix}${AFTER_HISTORY}` })) take(key);
  return hosts;
}

async function readList(view: StoreView): Promise<{ state: ListState; hosts: Map<string, number | undefined> }> {
  const object = await view.store.get(listKey(view.prefix));
  if (!object) return { state: "missing", hosts: new Map() };
  const reading = readHostList(object.body);
  if (!reading) return { state: "corrupt", hosts: new Map() };
  return { state: reading.legacy ? "legacy" : "ok", hosts: reading.hosts };
}

async function readLatest(view: StoreView, host: string): Promise<{ summary?: DocumentSummary; problem?: string }> {
  const object = await view.store.get(latestKey(host, view.prefix));
  if (!object) return { problem: "no latest document" };
  try {
    return { summary: summarize(JSON.parse(object.body)) };
  } catch {
    return { problem: "latest document is not JSON" };
  }
}

function timeOf(stamp: string | null | undefined): number | undefined {
  if (!stamp) return undefined;
  const time = Date.parse(stamp);
  return Number.isNaN(time) ? undefined : time;
}

function hostSummary(host: string, listed: number | undefined, inList: boolean, latest: { summary?: DocumentSummary; problem?: string }, options: FleetOptions, now: number): HostSummary {
  const document = latest.summary;
  const seen = [listed, timeOf(document?.timestamp)].filter((time): time is number => time !== undefined);
  const lastSeen = seen.length > 0 ? Math.max(...seen) : undefined;
  const ageSeconds = lastSeen === undefined ? null : Math.max(0, Math.round((now - lastSeen) / 1000));
  return {
    host,
    lastSeen: lastSeen === undefined ? null : new Date(lastSeen).toISOString().replace(".000Z", "Z"),
    ageSeconds,
    stale: ageSeconds === null || ageSeconds > options.staleAfterSeconds,
    inList,
    timestamp: document?.timestamp ?? null,
    cpuPercent: document?.cpuPercent ?? null,
    coreCount: document && document.perCore.length > 0 ? document.perCore.length : null,
    frequencyMhz: document?.frequencyMhz ?? null,
    memoryPercent: document?.memoryPercent ?? null,
    memoryUsedBytes: document?.memoryUsedBytes ?? null,
    memoryTotalBytes: document?.memoryTotalBytes ?? null,
    swapPercent: document?.swapPercent ?? null,
    swapUsedBytes: document?.swapUsedBytes ?? null,
    swapTotalBytes: document?.swapTotalBytes ?? null,
    hottestCpu: document ? hottest(document.temperatures) : null,
    gpus: document?.gpus ?? [],
    ...(latest.problem ? { problem: latest.problem } : {}),
  };
}

/** Every host the store knows (list.json and latest documents), with its latest values and how long ago it was seen. */
export async function readFleet(options: FleetOptions): Promise<FleetResponse> {
  const now = options.now ?? Date.now();
  const [list, withLatest] = await Promise.all([readList(options), hostsWithLatest(options)]);
  const names = [...new Set([...list.hosts.keys(), ...withLatest])].sort();
  const latest = await mapLimit(names, options.concurrency, (host) => readLatest(options, host));
  return {
    store: `${options.store.description}${options.prefix ? `/${options.prefix}` : ""}`,
    generatedAt: new Date(now).toISOString(),
    intervalSeconds: options.intervalSeconds,
    staleAfterSeconds: options.staleAfterSeconds,
    list: list.state,
    hosts: names.map((host, index) => hostSummary(host, list.hosts.get(host), list.hosts.has(host), latest[index] ?? {}, options, now)),
  };
}
