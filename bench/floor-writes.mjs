// What bench/floor.mjs and the rungs of bench/ladder do instead of the file sink: only the system calls the sink
// makes in a tick (default preset, listRefreshSeconds 0), with no layout or file-store code around them.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

const CREATE_NEW = { flag: "wx", encoding: "utf8" }; // with the encoding, Node writes in one C++ call

/** `write(timestamp, json)` for a store in `dir`: history file, `<host>.json` and list.json, as the sink does. */
export function createFloorWriter(dir, host) {
  const historyDir = `${dir}/history/${host}`;
  mkdirSync(historyDir, { recursive: true });
  const lockBase = `${dir}/.list.json.lockbase`;
  const lock = `${dir}/.list.json.lock`;
  const listFile = `${dir}/list.json`;
  writeFileSync(lockBase, "");
  let counter = 0;
  const temp = (folder, name) => `${folder}/.${name}.${process.pid}.${(counter += 1)}.tmp`;

  return function write(timestamp, json) {
    // history/<host>/<time>.json: a temporary file, given its name by a create-only link().
    const historyName = `${timestamp.replace(/[-:]/g, "").replace("T", "_").slice(0, 15)}.json`;
    const historyFile = `${historyDir}/${historyName}`;
    const historyTemp = temp(historyDir, historyName);
    writeFileSync(historyTemp, json, CREATE_NEW);
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
  };
}

/**
 * Calls `tick(slot)` at every whole second, as the agent's scheduler does. A timer may fire a little before its
 * slot: the slot, not the clock, names the second, and the next slot is always a later one (else two ticks could
 * share a second and the second's history key).
 */
export function everySecond(tick) {
  let slot = 0;
  const schedule = () => {
    const now = Date.now();
    slot = Math.max(slot + 1000, now - (now % 1000) + 1000);
    const due = slot;
    setTimeout(() => {
      schedule();
      tick(due);
    }, due - now);
  };
  schedule();
  process.on("SIGTERM", () => process.exit(0));
}
