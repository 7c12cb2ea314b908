// The floor under any agent that keeps the store layout in a directory: on the same 1 s wall-clock schedule,
// only the system calls resourcemonitor's file sink makes in a tick (default preset, listRefreshSeconds 0; less
// the sink's first read of list.json, as one read under the lock is enough), with no runtime, plugins,
// validation or logging around them. What this costs on a machine is what the
// layout asks of its file system, plus a timer and two /proc reads; an agent cannot cost less.
// Usage: node bench/floor.mjs DIR [HOST]   (runs until killed)
import { Buffer } from "node:buffer";
import { openSync, readSync } from "node:fs";
import { createFloorWriter, everySecond } from "./floor-writes.mjs";

const [dir, host = "floor-host"] = process.argv.slice(2);
if (!dir) throw new Error("usage: node bench/floor.mjs DIR [HOST]");
const write = createFloorWriter(dir, host);
const procStat = openSync("/proc/stat", "r");
const procMeminfo = openSync("/proc/meminfo", "r");
const buffer = Buffer.allocUnsafe(64 * 1024);

/** The first `length` characters of a kept-open /proc file, read again from its start. */
const readProc = (descriptor, length) => buffer.toString("latin1", 0, Math.min(length, readSync(descriptor, buffer, 0, buffer.length, 0)));

everySecond((slot) => {
  const timestamp = `${new Date(slot).toISOString().slice(0, 19)}Z`;
  // A document of the agent's size (about 400 bytes) from what was read, not parsed.
  write(timestamp, JSON.stringify({ timestamp, hostname: host, cpu: readProc(procStat, 160), memory: readProc(procMeminfo, 160) }));
});
