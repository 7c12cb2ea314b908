import { hasControlCharacter, validateHostname } from "./hostname.js";

export const LIST_KEY = "list.json";
export const HISTORY_FOLDER = "history";

function prefixProblem(prefix: string): string | undefined {
  if (prefix.startsWith("/")) return "starts with '/' (keys are relative)";
  if (prefix.includes("\\")) return "contains '\\'";
  if (hasControlCharacter(prefix)) return "contains a control character";
  const segments = prefix.slice(0, -1).split("/");
  if (segments.includes("")) return "has an empty segment ('//')";
  if (segments.includes(".") || segments.includes("..")) return "has a '.' or '..' segment";
  return undefined;
}

/**
 * The key prefix as every key function uses it: `""`, or `/`-separated segments ending in `/`
 * (`monitoring` becomes `monitoring/`). Throws when the prefix could escape or confuse the layout.
 */
export function normalizePrefix(prefix = ""): string {
  if (prefix === "") return "";
  const withSlash = prefix.endsWith("/") ? prefix : `${prefix}/`;
  const problem = prefixProblem(withSlash);
  if (problem) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}: ${problem}`);
  return withSlash;
}

function twoDigits(value: number): string {
  return String(value).padStart(2, "0");
}

/** `YYYYMMDD_HHMMSS` in UTC, the time part of history keys. */
export function keyTimestamp(date: Date): string {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) throw new RangeError(`cannot name a key after the time ${String(date)}`);
  const day = `${String(year).padStart(4, "0")}${twoDigits(date.getUTCMonth() + 1)}${twoDigits(date.getUTCDate())}`;
  return `${day}_${twoDigits(date.getUTCHours())}${twoDigits(date.getUTCMinutes())}${twoDigits(date.getUTCSeconds())}`;
}

/**
 * `""` for the first key of a second, then `_1` … `_9`, `_91` … `_99`, `_991` …: every suffix sorts
 * after the one before it and before the next second (`.` < `1`…`9` < `_` in byte order).
 */
export function collisionSuffix(attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`collision attempt must be a whole number, got ${attempt}`);
  if (attempt === 0) return "";
  return `_${"9".repeat(Math.floor((attempt - 1) / 9))}${((attempt - 1) % 9) + 1}`;
}

/** `<prefix><host>.json`: the host's latest document. */
export function latestKey(host: string, prefix = ""): string {
  return `${normalizePrefix(prefix)}${validateHostname(host)}.json`;
}

/** `<prefix>history/<host>/`: where the host's history lives (for `list`). */
export function historyPrefix(host: string, prefix = ""): string {
  return `${normalizePrefix(prefix)}${HISTORY_FOLDER}/${validateHostname(host)}/`;
}

/** `<prefix>history/<host>/<YYYYMMDD_HHMMSS>[_n].json`, UTC; `attempt` > 0 adds a collision suffix. */
export function historyKey(host: string, date: Date, prefix = "", attempt = 0): string {
  return `${historyPrefix(host, prefix)}${keyTimestamp(date)}${collisionSuffix(attempt)}.json`;
}

const HISTORY_NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_9*[1-9])?\.json$/;

/** The UTC time a history key's last segment names (`20250805_143022.json`, `…_1.json`), or `undefined` when it names none. */
export function historyKeyTime(key: string): Date | undefined {
  const match = HISTORY_NAME.exec(key.slice(key.lastIndexOf("/") + 1));
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hours < 24 && minutes < 60 && seconds < 60 ? date : undefined;
}

/** `<prefix>list.json`. */
export function listKey(prefix = ""): string {
  return `${normalizePrefix(prefix)}${LIST_KEY}`;
}

/**
 * `<prefix>list.json.corrupt-<YYYYMMDD_HHMMSS>[_n]`: where an unreadable list.json is kept. It does
 * not end in `.json`, so no `<host>.json` can ever be this key.
 */
export function corruptListKey(date: Date, prefix = "", attempt = 0): string {
  return `${listKey(prefix)}.corrupt-${keyTimestamp(date)}${collisionSuffix(attempt)}`;
}

/**
 * `<prefix>.resourcemonitor/probe-<host>`: the scratch key a sink writes at start-up to learn whether the
 * store honours conditional writes. The leading `.` keeps it apart from every `<host>.json` (no hostname
 * starts with `.`); one key per host, so probes never pile up.
 */
export function probeKey(host: string, prefix = ""): string {
  return `${normalizePrefix(prefix)}.resourcemonitor/probe-${validateHostname(host)}`;
}
