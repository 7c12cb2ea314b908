import { hostnameProblem, validateHostname } from "./hostname.js";
import { corruptListKey, listKey } from "./keys.js";
import { createIfAbsent, isPreconditionFailed, JSON_CONTENT_TYPE, type ObjectStore, type StoredObject } from "./store.js";

/** `list.json`: hostname -> when it last uploaded, ISO-8601 UTC to the second (`2025-08-05T14:30:22Z`). */
export type HostList = Record<string, string>;

/** Entries older than this are dropped whenever a host updates the list. */
export const HOST_LIST_MAX_AGE_MS = 5 * 60_000;
/** An entry this far in the future is no clock skew but garbage, and would otherwise never expire. */
export const HOST_LIST_MAX_FUTURE_MS = 24 * 60 * 60_000;
/** How many keys `<base>_1`, `_2`… are tried before giving up on finding a free one. */
export const MAX_COLLISION_ATTEMPTS = 100;

export interface HostListMerge {
  /** The new list, hostnames in order. */
  list: HostList;
  /** The text was no host list (not JSON, not an object, larger than 8 MiB): rebuilt from the entries still readable in it. */
  corrupt: boolean;
  /** The text was the legacy array of hostnames; its names were kept with the time `now`. */
  legacy: boolean;
  /** Names removed: expired, with a value that is no timestamp, or not a valid hostname. */
  dropped: string[];
}

/** ISO-8601 UTC to the second with `Z`, as the document's `timestamp`. */
export function isoSecond(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const LIST_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Milliseconds since the epoch of a list.json value, or `undefined` when it is none. A value without
 * a zone is UTC, as the original agent wrote it (`datetime.utcnow().isoformat()`).
 */
export function parseListTimestamp(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = LIST_TIMESTAMP.exec(value);
  if (!match) return undefined;
  const time = Date.parse(match[1] ? value : `${value}Z`);
  return Number.isNaN(time) ? undefined : time;
}

/** Larger than any real fleet's list (10,000 hosts take ~0.5 MB): parsed only by salvage, not JSON.parse. */
const HOST_LIST_MAX_CHARS = 8 * 1024 * 1024;

/** A corrupt list's `entries` are the `"name": "timestamp"` pairs salvaged from its text. */
type ParsedList = { kind: "object" | "legacy" | "corrupt"; entries: [string, unknown][] };

const SALVAGE_PAIR = /"((?:[^"\\\n]|\\.){1,300})"\s*:\s*"(\d{4}-\d{2}-\d{2}T[\d:.]{8,20}(?:Z|[+-]\d{2}:\d{2})?)"/g;

/** The `"name": "timestamp"` pairs still readable in a text that is no JSON (truncated, garbled, huge). */
function salvage(text: string): [string, unknown][] {
  const entries: [string, unknown][] = [];
  for (const [, name, stamp] of text.matchAll(SALVAGE_PAIR)) {
    try {
      entries.push([JSON.parse(`"${name}"`) as string, stamp]);
    } catch {
      // an escape that is no JSON: not a name anyone wrote
    }
  }
  return entries;
}

function parseHostList(text: string | undefined, nowStamp: string): ParsedList {
  if (text === undefined) return { kind: "object", entries: [] };
  if (text.length > HOST_LIST_MAX_CHARS) return { kind: "corrupt", entries: salvage(text) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "corrupt", entries: salvage(text) };
  }
  if (Array.isArray(value)) {
    // The legacy list of names; anything in it that is no name is dropped, the names are kept.
    return { kind: "legacy", entries: value.filter((name): name is string => typeof name === "string").map((name) => [name, nowStamp]) };
  }
  if (typeof value !== "object" || value === null) return { kind: "corrupt", entries: [] };
  return { kind: "object", entries: Object.entries(value) };
}

export interface HostListReading {
  /** Each valid hostname with its last upload in ms since the epoch; `undefined` for a legacy array's names and values that are no timestamp. */
  hosts: Map<string, number | undefined>;
  legacy: boolean;
}

/**
 * list.json as a reader sees it: every valid hostname, none dropped for age (a reader decides what is
 * stale). `undefined` when the text is no host list (corrupt).
 */
export function readHostList(text: string): HostListReading | undefined {
  const parsed = parseHostList(text, "");
  if (parsed.kind === "corrupt") return undefined;
  const hosts = new Map<string, number | undefined>();
  for (const [name, value] of parsed.entries) if (!hostnameProblem(name)) hosts.set(name, parseListTimestamp(value));
  return { hosts, legacy: parsed.kind === "legacy" };
}

/** The entry's time as ISO to the second, or `undefined` when it must be dropped. */
function keptStamp(name: string, value: unknown, now: number, maxAgeMs: number): string | undefined {
  if (hostnameProblem(name)) return undefined;
  const time = parseListTimestamp(value);
  if (time === undefined || now - time > maxAgeMs || time - now > HOST_LIST_MAX_FUTURE_MS) return undefined;
  return isoSecond(new Date(time));
}

/**
 * The list after `host` uploaded at `now`: its own entry set to `now`, entries older than `maxAgeMs`
 * (or with a value that is no timestamp, or a name that is no valid hostname) dropped, a legacy array
 * of names converted (without what is no name), anything else that is no host list treated as corrupt and
 * rebuilt from the `"name": "timestamp"` pairs still readable in it plus `host`.
 */
export function mergeHostList(currentText: string | undefined, host: string, now: Date, maxAgeMs = HOST_LIST_MAX_AGE_MS): HostListMerge {
  validateHostname(host);
  const nowStamp = isoSecond(now);
  const parsed = parseHostList(currentText, nowStamp);
  // A Map, then Object.fromEntries: a name like "__proto__" stays an ordinary entry.
  const kept = new Map<string, string>();
  const dropped: string[] = [];
  for (const [name, value] of parsed.entries) {
    if (name === host) continue;
    const stamp = keptStamp(name, value, now.getTime(), maxAgeMs);
    if (stamp === undefined) dropped.push(name);
    else kept.set(name, stamp);
  }
  kept.set(host, nowStamp);
  const list = Object.fromEntries([...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { list, corrupt: parsed.kind === "corrupt", legacy: parsed.kind === "legacy", dropped };
}

export interface UpdateHostListOptions {
  prefix?: string;
  /** Reads and conditional writes before giving up (default 10). */
  maxAttempts?: number;
  maxAgeMs?: number;
  /** First backoff after a conflict; doubles each time up to `maxDelayMs`, full jitter (default 25 ms, 1000 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * The store ignores `ifMatch` / `ifNoneMatch` (some S3-compatible stores and proxies do): after each
   * write, read list.json back and merge again when this host's entry is not in it. A concurrent writer
   * can still drop the entry after the check; `ensureHostListed` on the next sample restores it.
   */
  verify?: boolean;
  /**
   * Leave list.json alone when the list just read already holds this host with an upload time at or after
   * this (ms since the epoch): an agent restarted a moment ago need not rewrite its entry. Not for a corrupt list.
   */
  skipIfListedSince?: number;
  /**
   * list.json as read by the caller just before (e.g. while it wrote the sample's history object), used
   * instead of the first read; later attempts read it again.
   */
  firstRead?: Promise<StoredObject | undefined>;
}

export interface HostListUpdate extends HostListMerge {
  key: string;
  /** How many read-merge-write rounds it took (1 without conflict). */
  attempts: number;
  /** Keys under which unreadable list.json texts were kept before the list was rebuilt. */
  corruptCopies: string[];
  /** False when `skipIfListedSince` found the entry fresh and nothing was written (`list` is then the list as read). */
  written: boolean;
}

/** Thrown when other writers changed list.json between every read and write, `maxAttempts` times. */
export class HostListConflictError extends Error {
  constructor(readonly key: string, readonly attempts: number) {
    super(`could not update ${key}: it changed between read and write ${attempts} times in a row (other hosts writing it)`);
    this.name = "HostListConflictError";
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function backoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

/** Writes `text` under `<prefix>list.json.corrupt-<time>[_n]`, never over an existing key. */
async function keepCorruptCopy(store: ObjectStore, text: string, now: Date, prefix: string, verify: boolean): Promise<string> {
  for (let attempt = 0; attempt < MAX_COLLISION_ATTEMPTS; attempt += 1) {
    const key = corruptListKey(now, prefix, attempt);
    if ((await createIfAbsent(store, key, text, "text/plain; charset=utf-8", verify)).created) return key;
  }
  throw new Error(`could not keep the corrupt ${listKey(prefix)} aside: ${MAX_COLLISION_ATTEMPTS} keys named after ${now.toISOString()} are taken`);
}

/**
 * Upserts `host` into list.json with compare-and-swap: read it with its version, merge, write it back
 * only if unchanged (or only if still absent), and on a conflict re-read and retry after a jittered,
 * growing pause. No concurrent writer's entry is lost. A corrupt list is first kept aside, then rebuilt.
 */
export async function updateHostList(store: ObjectStore, host: string, now: Date, options: UpdateHostListOptions = {}): Promise<HostListUpdate> {
  const { prefix = "", maxAttempts = 10, maxAgeMs, baseDelayMs = 25, maxDelayMs = 1000, verify = false, skipIfListedSince, firstRead } = options;
  const key = listKey(prefix);
  if (canUpdate(store) && !verify && !firstRead) {
    const update = await updateInPlace(store, key, host, now, maxAgeMs, skipIfListedSince);
    if (update) return update;
  }
  const corruptCopies: string[] = [];
  const keptTexts = new Set<string>();
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const current = attempt === 1 && firstRead ? await firstRead : await store.get(key);
    const merged = mergeHostList(current?.body, host, now, maxAgeMs);
    if (skipIfListedSince !== undefined && current && !merged.corrupt && listedSince(current.body, host, skipIfListedSince)) {
      return { ...merged, list: JSON.parse(current.body) as HostList, dropped: [], key, attempts: attempt, corruptCopies, written: false };
    }
    if (merged.corrupt && current && !keptTexts.has(current.body)) {
      corruptCopies.push(await keepCorruptCopy(store, current.body, now, prefix, verify));
      keptTexts.add(current.body);
    }
    const condition = current ? { ifMatch: current.version } : { ifNoneMatch: "*" as const };
    try {
      await store.put(key, `${JSON.stringify(merged.list, null, 2)}\n`, { ...condition, contentType: JSON_CONTENT_TYPE });
      if (!verify || (await listsHost(store, key, host))) return { ...merged, key, attempts: attempt, corruptCopies, written: true };
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
    }
    if (attempt < maxAttempts) await sleep(backoffMs(attempt, baseDelayMs, maxDelayMs));
  }
  throw new HostListConflictError(key, maxAttempts);
}

type UpdatingStore = ObjectStore & Required<Pick<ObjectStore, "update">>;

function canUpdate(store: ObjectStore): store is UpdatingStore {
  return store.update !== undefined;
}

/**
 * The update as one read-merge-write through the store's own `update` (no compare-and-swap, no retries);
 * `undefined`, with nothing written, when the list read is corrupt: its text is kept aside first, by the
 * compare-and-swap path.
 */
async function updateInPlace(
  store: UpdatingStore,
  key: string,
  host: string,
  now: Date,
  maxAgeMs: number | undefined,
  skipIfListedSince: number | undefined,
): Promise<HostListUpdate | undefined> {
  let merged: HostListMerge | undefined;
  let listedAsRead: HostList | undefined;
  await store.update(key, (current) => {
    merged = mergeHostList(current, host, now, maxAgeMs);
    if (merged.corrupt) return undefined;
    if (skipIfListedSince !== undefined && current !== undefined && listedSince(current, host, skipIfListedSince)) {
      listedAsRead = JSON.parse(current) as HostList;
      return undefined;
    }
    return `${JSON.stringify(merged.list, null, 2)}\n`;
  }, { contentType: JSON_CONTENT_TYPE });
  if (!merged || merged.corrupt) return undefined;
  // Object literals, not spreads: unoptimized (--no-opt), a spread copies property by property into a new shape.
  const { list, legacy, dropped } = merged;
  if (listedAsRead) return { list: listedAsRead, corrupt: false, legacy, dropped: [], key, attempts: 1, corruptCopies: [], written: false };
  return { list, corrupt: false, legacy, dropped, key, attempts: 1, corruptCopies: [], written: true };
}

/** Whether the list text holds `host` with an upload time at or after `since` (and not a day past it: garbage). */
function listedSince(text: string, host: string, since: number): boolean {
  const time = readHostList(text)?.hosts.get(host);
  return time !== undefined && time >= since && time - since <= HOST_LIST_MAX_FUTURE_MS;
}

async function listsHost(store: ObjectStore, key: string, host: string): Promise<boolean> {
  const current = await store.get(key);
  return current !== undefined && (readHostList(current.body)?.hosts.has(host) ?? false);
}

/**
 * Between refreshes of a store that ignores conditional writes: reads list.json and, only when this host's
 * entry is missing (another writer's read-merge-write dropped it), adds it back with `updateHostList`.
 * Returns `undefined` when the entry was there.
 */
export async function ensureHostListed(store: ObjectStore, host: string, now: Date, options: UpdateHostListOptions = {}): Promise<HostListUpdate | undefined> {
  if (await listsHost(store, listKey(options.prefix ?? ""), host)) return undefined;
  return updateHostList(store, host, now, options);
}

/** The few logger methods `logHostListUpdate` needs (pino's, the runtime's). */
export interface HostListLogger {
  warn(fields: object, message: string): void;
  info(message: string): void;
  debug(fields: object, message: string): void;
}

/** What every layout sink says about a list.json update: a corrupt list kept aside (warn), a legacy list converted (info), the rest at debug. */
export function logHostListUpdate(logger: HostListLogger, update: HostListUpdate | undefined): void {
  if (!update) return;
  if (update.corrupt) logger.warn({ kept: update.corruptCopies }, `${update.key} was no host list; kept its text as ${update.corruptCopies.join(", ")} and rebuilt it`);
  if (update.legacy) logger.info(`converted ${update.key} from the legacy list of names to names with times`);
  if (update.dropped.length > 0) logger.debug({ dropped: update.dropped }, `dropped stale hosts from ${update.key}`);
  if (update.attempts > 1) logger.debug({ attempts: update.attempts }, `${update.key} changed under us; merged again`);
}
