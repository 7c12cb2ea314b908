import { readFileSync, readdirSync, realpathSync } from "node:fs";
import type { KernelFile } from "@resourcemonitor/runtime";

/*
 * Reads are synchronous on purpose. procfs and sysfs are generated from kernel memory and never wait on a disk,
 * and a synchronous read of one small file costs about 7-20 µs of CPU where fs/promises.readFile costs
 * 100-250 µs (thread-pool hops for open, fstat, read and close), which alone would blow the agent's
 * 1 ms-per-tick budget. The one risk is a FUSE-backed /proc (lxcfs) whose daemon hangs; see the README.
 */

function isErrnoError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}

/** A file the kernel may refuse (ENOENT, EACCES, EBUSY on an inactive cpufreq policy, ENODEV after unplug...) reads as null. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (isErrnoError(error)) return null;
    throw error;
  }
}

/** A file holding one integer (sysfs attributes), or null when it is absent or not a number. */
export function readInteger(path: string): number | null {
  const text = readText(path)?.trim();
  if (!text || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

/** Entry names of a directory; [] when it does not exist. Symlinked entries are listed too (sysfs is full of them). */
export function listDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isErrnoError(error)) return [];
    throw error;
  }
}

export function resolvePath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (error) {
    if (isErrnoError(error)) return null;
    throw error;
  }
}

/** Where the run of lines starting with `prefix` at the top of `text` ends, or -1 if `text` may hold more of them. */
function endOfLeadingLines(text: string, prefix: string, from: number): { end: number; resumeAt: number } {
  let lineStart = from;
  while (text.length - lineStart >= prefix.length) {
    if (!text.startsWith(prefix, lineStart)) return { end: lineStart, resumeAt: lineStart };
    const newline = text.indexOf("\n", lineStart);
    if (newline < 0) break;
    lineStart = newline + 1;
  }
  return { end: -1, resumeAt: lineStart };
}

/**
 * The lines at the top of a file that start with `prefix`, read in chunks and stopped at the first other line.
 * /proc/stat keeps its `cpu` lines first and an `intr` line of 100 KB and more after them, which this never decodes.
 */
export function readLeadingLines(file: KernelFile, prefix: string): string | null {
  let scan = { end: -1, resumeAt: 0 };
  const text = file.read((sofar) => (scan = endOfLeadingLines(sofar, prefix, scan.resumeAt)).end >= 0);
  if (text === null) return null;
  return scan.end >= 0 ? text.slice(0, scan.end) : text;
}
