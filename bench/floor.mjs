// The floor under any agent that keeps the store layout in a directory: on the same 1 s wall-clock schedule,
// only the system calls resourcemonitor's file sink makes in a tick (default preset, listRefreshSeconds 0; less
// the sink's first read of list.json, as one read under the lock is enough), with no runtime, plugins,
// validation or logging around them. What this costs on a machine is what the
// layout asks of its file system, plus a timer and two /proc reads; an agent cannot cost less.
// Usage: node bench/floor.mjs DIR [HOST]   (runs until killed)
import { Buffer } from "node:buffer";
import { linkSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

const [dir, host = "floor-host"] = process.argv.slice(2);
if (!dir) throw new Error("usage: node bench/floor.mjs DIR [HOST]");
const historyDir = `${dir}/history/${host}`;
mkdirSync(historyDir, { recursive: true });
const lockBase = `${dir}/.list.json.lockbase`;
const lock = `${dir}/.list.json.lock`;
const listFile = `${dir}/list.json`;
writeFileSync(lockBase, "");
const CREATE_NEW = { flag: "wx", encoding: "utf8" }; // with the encoding, Node writes in one C++ call
const procStat = openSync("/proc/stat", "r");
const procMeminfo = openSync("/proc/meminfo", "r");
const buffer = Buffer.allocUnsafe(64 * 1024);
let counter = 0;

/** The first `length` characters of a kept-open /proc file, read again from its start. */
const readProc = (descriptor, length) => buffer.toString("latin1", 0, Math.min(length, readSync(descriptor, buffer, 0, buffer.length, 0)));
const temp = (folder, name) => `${folder}/.${name}.${process.pid}.${(counter += 1)}.tmp`;

function tick(slot) {
  const second = new Date(slot);
  const timestamp = `${second.toISOString().slice(0, 19)}Z`;
  // A document of the agent's size (about 400 bytes) from what was read.
  const document = JSON.stringify({ timestamp, hostname: host, cpu: readProc(procStat, 160), memory: readProc(procMeminfo, 160) });

  // history/<host>/<time>.json: a temporary file, given its name by a create-only link().
  const historyName = `${timestamp.replace(/[-:]/g, "").replace("T", "_").slice(0, 15)}.json`;
  const historyFile = `${historyDir}/${historyName}`;
  const historyTemp = temp(historyDir, historyName);
  writeFileSync(historyTemp, document, CREATE_NEW);
  linkSync(historyTemp, historyFile);
  unlinkSync(historyTemp);

  // <host>.json: a second name of the history file, renamed over the previous one.
  const latestTemp = temp(dir, `${host}.json`);
  linkSync(historyFile, latestTemp);
  renameSync(latestTemp, `${dir}/${host}.json`);

  // list.json: under the lock, read, set this host's entry, write a temporary file and rename it over.
  linkSync(lockBase, lock);
  let list = {};
  try {
    list = JSON.parse(readFileSync(listFile, "utf8"));
  } catch {
    // first tick
  }
  list[host] = timestamp;
  const listTemp = temp(dir, "list.json");
  writeFileSync(listTemp, `${JSON.stringify(list, null, 2)}\n`, CREATE_NEW);
  renameSync(listTemp, listFile);
  unlinkSync(lock);
}

// A timer may fire a little before its slot: the slot, not the clock, names the second, and the next slot is
// always a later one (else two ticks could share a second and the second's history key).
let slot = 0;
function schedule() {
  const now = Date.now();
  slot = Math.max(slot + 1000, now - (now % 1000) + 1000);
  const due = slot;
  setTimeout(() => {
    schedule();
    tick(due);
  }, due - now);
}
schedule();
process.on("SIGTERM", () => process.exit(0));
