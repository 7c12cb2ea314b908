import { roundPercent } from "@resourcemonitor/runtime";

/** Cumulative counters of one block device from /proc/diskstats. */
export interface DiskCounters {
  reads: number;
  writes: number;
  /** Sectors are 512 bytes in /proc/diskstats whatever the device's sector size. */
  sectorsRead: number;
  sectorsWritten: number;
  /** Milliseconds the device had I/O in flight; null on the 4-field partition lines of old kernels. */
  ioMs: number | null;
}

export const SECTOR_BYTES = 512;

/** `major minor name reads merged sectors ms writes merged sectors ms in-flight io-ms weighted-ms [...]`. */
export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const devices = new Map<string, DiskCounters>();
  for (const line of text.split("\n")) {
    const [, , name, ...rest] = line.trim().split(/\s+/);
    const values = rest.map(Number);
    if (!name || values.some((value) => !Number.isFinite(value))) continue;
    if (values.length >= 11) {
      const [reads = 0, , sectorsRead = 0, , writes = 0, , sectorsWritten = 0, , , ioMs = 0] = values;
      devices.set(name, { reads, writes, sectorsRead, sectorsWritten, ioMs });
    } else if (values.length === 4) {
      const [reads = 0, sectorsRead = 0, writes = 0, sectorsWritten = 0] = values;
      devices.set(name, { reads, writes, sectorsRead, sectorsWritten, ioMs: null });
    }
  }
  return devices;
}

/** What the plugin reports per device: cumulative totals and rates over the last tick. */
export interface DeviceIo {
  device: string;
  reads: number;
  writes: number;
  read_bytes: number;
  write_bytes: number;
  reads_per_second: number | null;
  writes_per_second: number | null;
  read_bytes_per_second: number | null;
  write_bytes_per_second: number | null;
  busy_percent: number | null;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Change per second, or null without a previous value or when the counter went backwards (wrapped, device re-attached). */
function perSecond(now: number, before: number | null | undefined, seconds: number): number | null {
  if (before === undefined || before === null || now < before || seconds <= 0) return null;
  return (now - before) / seconds;
}

function rate(now: number, before: number | null | undefined, seconds: number): number | null {
  const value = perSecond(now, before, seconds);
  return value === null ? null : round1(value);
}

/** Per-device totals and rates between two readings `seconds` apart; `previous` is empty on the first reading. */
export function deviceIo(current: Map<string, DiskCounters>, previous: Map<string, DiskCounters>, seconds: number, include: (device: string) => boolean): DeviceIo[] {
  return [...current].filter(([device]) => include(device)).map(([device, now]) => {
    const before = previous.get(device);
    const ioMsPerSecond = now.ioMs === null ? null : perSecond(now.ioMs, before?.ioMs, seconds);
    return {
      device,
      reads: now.reads,
      writes: now.writes,
      read_bytes: now.sectorsRead * SECTOR_BYTES,
      write_bytes: now.sectorsWritten * SECTOR_BYTES,
      reads_per_second: rate(now.reads, before?.reads, seconds),
      writes_per_second: rate(now.writes, before?.writes, seconds),
      read_bytes_per_second: rate(now.sectorsRead * SECTOR_BYTES, before && before.sectorsRead * SECTOR_BYTES, seconds),
      write_bytes_per_second: rate(now.sectorsWritten * SECTOR_BYTES, before && before.sectorsWritten * SECTOR_BYTES, seconds),
      // io-ms per second of wall time: 1000 ms/s is 100 %; clamped because the kernel's accounting can run a little ahead.
      busy_percent: ioMsPerSecond === null ? null : Math.min(100, roundPercent(ioMsPerSecond / 10)),
    };
  });
}
