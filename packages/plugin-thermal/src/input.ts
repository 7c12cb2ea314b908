import { Buffer } from "node:buffer";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { isErrnoError, parseMillidegrees } from "./sysfs.js";

/*
 * Each sensor's input file is opened once at discovery and re-read with pread at offset 0 on every tick: sysfs
 * runs the driver's show() again for a read at offset 0 (the documented way to re-read an attribute is to seek
 * to 0 and read), and one pread costs about a third of open + read + close. That matters on a two-socket
 * server, where coretemp alone has over 100 sensors.
 */

/** The errors of a file whose device went away (hot-unplug, driver unbound): worth discovering again. */
const GONE_CODES = new Set(["ENODEV", "ENOENT", "ENXIO"]);

/** Long enough for any millidegree value; a longer file is not a temperature. */
const READ_BUFFER = Buffer.allocUnsafe(64);

export type InputReading = { readonly ok: true; readonly celsius: number } | { readonly ok: false; readonly gone: boolean; readonly reason: string };

/** An open `temp*_input` (hwmon) or `temp` (thermal zone) file. */
export class InputFile {
  private constructor(
    readonly path: string,
    private descriptor: number | null,
  ) {}

  /** Opens the file; null when it cannot be opened (it went away since the listing, or it is not readable). */
  static open(path: string): InputFile | null {
    try {
      return new InputFile(path, openSync(path, "r"));
    } catch (error) {
      if (isErrnoError(error)) return null;
      throw error;
    }
  }

  read(): InputReading {
    if (this.descriptor === null) return { ok: false, gone: true, reason: "closed" };
    let length: number;
    try {
      length = readSync(this.descriptor, READ_BUFFER, 0, READ_BUFFER.length, 0);
    } catch (error) {
      if (!isErrnoError(error)) throw error;
      const code = error.code ?? "unknown error";
      return { ok: false, gone: GONE_CODES.has(code) || !existsSync(this.path), reason: code };
    }
    const celsius = parseMillidegrees(READ_BUFFER.toString("latin1", 0, length));
    if (celsius === null) return { ok: false, gone: !existsSync(this.path), reason: "not a number" };
    return { ok: true, celsius };
  }

  close(): void {
    if (this.descriptor === null) return;
    closeSync(this.descriptor);
    this.descriptor = null;
  }
}
