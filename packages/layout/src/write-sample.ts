import { validateHostname } from "./hostname.js";
import { MAX_COLLISION_ATTEMPTS, updateHostList, type HostListUpdate, type UpdateHostListOptions } from "./host-list.js";
import { historyKey, latestKey } from "./keys.js";
import { isPreconditionFailed, JSON_CONTENT_TYPE, type ObjectStore } from "./store.js";

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
async function putHistory(store: ObjectStore, host: string, time: Date, json: string, prefix: string): Promise<{ key: string; existed: boolean }> {
  for (let attempt = 0; attempt < MAX_COLLISION_ATTEMPTS; attempt += 1) {
    const key = historyKey(host, time, prefix, attempt);
    try {
      await store.put(key, json, { ifNoneMatch: "*", contentType: JSON_CONTENT_TYPE });
      return { key, existed: false };
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
    }
    if ((await store.get(key))?.body === json) return { key, existed: true };
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
  const history = await putHistory(store, host, sampleTime(document), json, prefix);
  const latest = latestKey(host, prefix);
  await store.put(latest, json, { contentType: JSON_CONTENT_TYPE });
  const hostList = await updateHostList(store, host, options.now ?? new Date(), options);
  return { historyKey: history.key, latestKey: latest, historyExisted: history.existed, hostList };
}
