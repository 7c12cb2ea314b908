import { validateHostname } from "./hostname.js";
import { ensureHostListed, MAX_COLLISION_ATTEMPTS, updateHostList, type HostListUpdate, type UpdateHostListOptions } from "./host-list.js";
import { historyKey, latestKey } from "./keys.js";
import { createIfAbsent, JSON_CONTENT_TYPE, type ObjectStore } from "./store.js";

/** The part of a metrics document the layout reads. */
export interface SampleDocument {
  readonly timestamp: string;
  readonly hostname: string;
}

export interface WriteSampleOptions extends UpdateHostListOptions {
  /** The upload time recorded in list.json (default: now). History keys use the document's timestamp. */
  now?: Date;
}

export interface WrittenSample {
  historyKey: string;
  latestKey: string;
  /** The same text was already stored under `historyKey` (a replayed upload); nothing new was added. */
  historyExisted: boolean;
  hostList: HostListUpdate;
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

/**
 * Stores one sample the way every layout sink does: the history entry (never overwritten), then
 * `<host>.json` (overwritten), then the host's entry in list.json (compare-and-swap).
 */
export async function writeSample(store: ObjectStore, document: SampleDocument, json: string, options: WriteSampleOptions = {}): Promise<WrittenSample> {
  const prefix = options.prefix ?? "";
  const host = validateHostname(document.hostname);
  const history = await putHistory(store, host, sampleTime(document), json, prefix, options.verify);
  const latest = latestKey(host, prefix);
  await store.put(latest, json, { contentType: JSON_CONTENT_TYPE });
  const hostList = await updateHostList(store, host, options.now ?? new Date(), options);
  return { historyKey: history.key, latestKey: latest, historyExisted: history.existed, hostList };
}

export interface SampleWriterOptions extends Omit<UpdateHostListOptions, "verify"> {
  /**
   * Refresh this host's list.json entry at most this often, in milliseconds; 0 (default) refreshes it with every
   * sample, as the original agent does. Must stay well under the 5-minute expiry.
   */
  listRefreshMs?: number;
  /**
   * The store ignores conditional writes: history keys are checked before they are written, list.json is read
   * back after each write, and between refreshes each sample checks that this host's entry is still listed.
   */
  verifyWrites?: boolean;
}

/** What one sample wrote; `hostList` is `undefined` when list.json was not written this time. */
export interface WrittenTick extends Omit<WrittenSample, "hostList"> {
  hostList: HostListUpdate | undefined;
}

export interface SampleWriter {
  write(document: SampleDocument, json: string, now?: Date): Promise<WrittenTick>;
}

/**
 * `writeSample` for a long-running sink: the same keys and list.json rules, plus a list.json refresh period
 * (a fleet at 1 s intervals need not rewrite it every second) and read-after-write verification for stores
 * that ignore conditional writes.
 */
export function createSampleWriter(store: ObjectStore, options: SampleWriterOptions = {}): SampleWriter {
  const { listRefreshMs = 0, verifyWrites: verify = false, ...listOptions } = options;
  const prefix = options.prefix ?? "";
  const hostListOptions = { ...listOptions, verify };
  let lastRefresh = Number.NEGATIVE_INFINITY;
  const refreshList = async (host: string, now: Date): Promise<HostListUpdate | undefined> => {
    if (now.getTime() - lastRefresh < listRefreshMs) return verify ? ensureHostListed(store, host, now, hostListOptions) : undefined;
    const update = await updateHostList(store, host, now, hostListOptions);
    lastRefresh = now.getTime();
    return update;
  };
  return {
    async write(document, json, now = new Date()) {
      const host = validateHostname(document.hostname);
      const history = await putHistory(store, host, sampleTime(document), json, prefix, verify);
      const latest = latestKey(host, prefix);
      await store.put(latest, json, { contentType: JSON_CONTENT_TYPE });
      const hostList = await refreshList(host, now);
      return { historyKey: history.key, latestKey: latest, historyExisted: history.existed, hostList };
    },
  };
}
