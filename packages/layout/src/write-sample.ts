import { validateHostname } from "./hostname.js";
import { MAX_COLLISION_ATTEMPTS, updateHostList, type HostListLogger, type HostListUpdate, type UpdateHostListOptions } from "./host-list.js";
import { HostListKeeper, type RefreshTimers } from "./host-list-keeper.js";
import { historyKey, latestKey, listKey } from "./keys.js";
import { createIfAbsent, JSON_CONTENT_TYPE, type ObjectStore } from "./store.js";

/** The part of a metrics document the layout reads. */
export interface SampleDocument {
  readonly timestamp: string;
  readonly hostname: string;
}

/**
 * What a write does to `<host>.json` and list.json. `always`: a live sample, the newest. `if-newer`: a
 * replayed sample that may be older than the stored `<host>.json`; written only if it is newer. `skip`:
 * newer samples are queued behind this one; it goes to history only.
 */
export type LatestMode = "always" | "if-newer" | "skip";

/** The mode for a runtime `Delivery` (`replay`, `latest`); "always" without one. */
export function latestModeFor(delivery?: { readonly replay: boolean; readonly latest: boolean }): LatestMode {
  if (!delivery) return "always";
  if (!delivery.latest) return "skip";
  return delivery.replay ? "if-newer" : "always";
}

export interface WriteSampleOptions extends UpdateHostListOptions {
  /** The upload time recorded in list.json (default: now). History keys use the document's timestamp. */
  now?: Date;
  /** Whether `<host>.json` and list.json are written too (default "always"): they only move forward in time. */
  latest?: LatestMode;
}

export interface WrittenSample {
  historyKey: string;
  latestKey: string;
  /** The same text was already stored under `historyKey` (a replayed upload); nothing new was added. */
  historyExisted: boolean;
  /** `undefined` when the latest mode left `<host>.json` and list.json alone. */
  hostList: HostListUpdate | undefined;
}

function sampleTime(document: SampleDocument): Date {
  const time = new Date(document.timestamp);
  if (Number.isNaN(time.getTime())) throw new Error(`document timestamp ${JSON.stringify(document.timestamp)} is not a date`);
  return time;
}

/**
 * Creates `history/<host>/<time>.json` without ever overwriting: a taken key holding other text moves
 * on to `<time>_1.json`, `_2`…; a taken key holding this very text is an upload replayed and kept as is.
 */
async function putHistory(store: ObjectStore, host: string, time: Date, json: string, prefix: string, verify = false): Promise<{ key: string; existed: boolean }> {
  for (let attempt = 0; attempt < MAX_COLLISION_ATTEMPTS; attempt += 1) {
    const key = historyKey(host, time, prefix, attempt);
    const created = await createIfAbsent(store, key, json, JSON_CONTENT_TYPE, verify);
    if (created.created) return { key, existed: false };
    if (created.existing === json) return { key, existed: true };
  }
  throw new Error(`${MAX_COLLISION_ATTEMPTS} history keys of ${host} at ${time.toISOString()} are taken`);
}

/** Writes `<host>.json` as `mode` says; false when it was left alone (and list.json should be too). */
async function putLatest(store: ObjectStore, key: string, json: string, time: Date, mode: LatestMode): Promise<boolean> {
  if (mode === "skip") return false;
  if (mode === "if-newer") {
    const current = await store.get(key);
    const currentTime = current ? storedTime(current.body) : undefined;
    if (currentTime !== undefined && currentTime >= time.getTime()) return false;
  }
  await store.put(key, json, { contentType: JSON_CONTENT_TYPE });
  return true;
}

/** The timestamp of a stored document, or undefined when it has none (then it is overwritten). */
function storedTime(body: string): number | undefined {
  try {
    const time = Date.parse((JSON.parse(body) as { timestamp?: unknown }).timestamp as string);
    return Number.isNaN(time) ? undefined : time;
  } catch {
    return undefined;
  }
}

/**
 * Stores one sample the way every layout sink does: the history entry (never overwritten), then
 * `<host>.json` (overwritten), then the host's entry in list.json (compare-and-swap); the last two as
 * `options.latest` says.
 */
export async function writeSample(store: ObjectStore, document: SampleDocument, json: string, options: WriteSampleOptions = {}): Promise<WrittenSample> {
  const prefix = options.prefix ?? "";
  const host = validateHostname(document.hostname);
  const time = sampleTime(document);
  const history = await putHistory(store, host, time, json, prefix, options.verify);
  const latest = latestKey(host, prefix);
  const moved = await putLatest(store, latest, json, time, options.latest ?? "always");
  const hostList = moved ? await updateHostList(store, host, options.now ?? new Date(), options) : undefined;
  return { historyKey: history.key, latestKey: latest, historyExisted: history.existed, hostList };
}

export interface SampleWriterOptions extends Omit<UpdateHostListOptions, "verify" | "skipIfListedSince"> {
  /**
   * 0 (default): list.json is updated in every upload, as the original agent does. Otherwise this host's entry
   * is refreshed in the background about this often, in milliseconds (a random time in the last `listJitterMs`
   * of the period; at most the expiry less a minute), and the first listing happens in the upload.
   */
  listRefreshMs?: number;
  /** How much before the period is over a refresh may happen, at random (default a quarter of `listRefreshMs`). */
  listJitterMs?: number;
  /**
   * The store ignores conditional writes: history keys are checked before they are written, list.json is read
   * back after each write, and between refreshes each sample checks that this host's entry is still listed.
   */
  verifyWrites?: boolean;
  /** Where background list.json updates and "list.json not updated" / "listed again" go (once per change). */
  logger?: HostListLogger;
  /** For tests: the timers, clock and random numbers refreshes are scheduled with. */
  timers?: RefreshTimers;
  clock?: () => number;
  random?: () => number;
}

/** What one sample wrote; `hostList` is `undefined` when list.json was not written this time. */
export interface WrittenTick extends Omit<WrittenSample, "hostList"> {
  /** This upload's list.json update, or a background refresh's not reported before. */
  hostList: HostListUpdate | undefined;
  /**
   * list.json could not be updated in this upload (every compare-and-swap lost to other hosts). The sample is
   * stored all the same (history and `<host>.json`); the next upload or refresh tries list.json again.
   */
  listError: Error | undefined;
}

export interface SampleWriter {
  /** `latest` as in writeSample: pass `latestModeFor(delivery)` from the emit hook. */
  write(document: SampleDocument, json: string, now?: Date, latest?: LatestMode): Promise<WrittenTick>;
  /** Resolves once no background list.json refresh is under way. */
  idle(): Promise<void>;
  /** Stops the background list.json refreshes (waits for one under way). */
  close(): Promise<void>;
}

/**
 * `writeSample` for a long-running sink: the same keys and list.json rules, plus a list.json refresh period
 * (a fleet need not rewrite it with every sample), list.json conflicts that never fail a stored sample, and
 * read-after-write verification for stores that ignore conditional writes.
 */
export function createSampleWriter(store: ObjectStore, options: SampleWriterOptions = {}): SampleWriter {
  const { listRefreshMs = 0, listJitterMs, verifyWrites: verify = false, ...listOptions } = options;
  const prefix = options.prefix ?? "";
  const keeper = new HostListKeeper(store, { ...listOptions, verify, refreshMs: listRefreshMs, jitterMs: listJitterMs });
  return {
    async write(document, json, now = new Date(), mode = "always") {
      const host = validateHostname(document.hostname);
      const time = sampleTime(document);
      // list.json is read while the history object is written: one round trip less a tick on S3. A read
      // cannot change what readers see, and the writes keep their order. A store with `update` reads it then.
      const firstRead = mode === "always" && keeper.listsEveryUpload && !store.update ? store.get(listKey(prefix)) : undefined;
      firstRead?.catch(() => undefined); // a failed read is seen where it is awaited, or not at all when the sample fails first
      const history = await putHistory(store, host, time, json, prefix, verify);
      const latest = latestKey(host, prefix);
      const listing = (await putLatest(store, latest, json, time, mode)) ? await keeper.uploaded(host, now, firstRead) : undefined;
      return { historyKey: history.key, latestKey: latest, historyExisted: history.existed, hostList: listing?.update, listError: listing?.error };
    },
    idle: () => keeper.idle(),
    close: () => keeper.close(),
  };
}
