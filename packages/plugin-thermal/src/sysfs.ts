import { readFileSync, readdirSync, statSync } from "node:fs";

/*
 * Discovery reads are synchronous: sysfs is kernel memory, discovery runs once at start and then every few minutes,
 * and a synchronous read of a small attribute costs a few µs where fs/promises costs 100 µs and more.
 */

export function isErrnoError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}

/** The stripped text of an attribute, or null when it is absent, unreadable or blank. */
export function readTrimmed(path: string): string | null {
  try {
    const text = readFileSync(path, "utf8").trim();
    return text === "" ? null : text;
  } catch (error) {
    if (isErrnoError(error)) return null;
    throw error;
  }
}

/** Millidegrees Celsius as the kernel prints them (`45000\n`, `-62000\n`) to degrees; null when not an integer. */
export function parseMillidegrees(text: string): number | null {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return null;
  return Number(trimmed) / 1000;
}

/** A millidegree attribute in degrees Celsius, or null when it is absent, unreadable or not a number. */
export function readMillidegrees(path: string): number | null {
  const text = readTrimmed(path);
  return text === null ? null : parseMillidegrees(text);
}

/** Entry names of a directory; [] when it does not exist or cannot be listed. */
export function listDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isErrnoError(error)) return [];
    throw error;
  }
}

/** Follows symlinks (sysfs class entries are links to directories, so Dirent.isDirectory() would say false). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (error) {
    if (isErrnoError(error)) return false;
    throw error;
  }
}

export interface NumberedEntry {
  readonly name: string;
  readonly index: number;
}

/** Entries whose whole name matches `pattern` (one group of digits), sorted by that number: hwmon2 before hwmon10. */
export function numberedEntries(names: readonly string[], pattern: RegExp): NumberedEntry[] {
  const entries: NumberedEntry[] = [];
  for (const name of names) {
    const digits = pattern.exec(name)?.[1];
    if (digits !== undefined) entries.push({ name, index: Number(digits) });
  }
  return entries.sort((left, right) => left.index - right.index);
}
