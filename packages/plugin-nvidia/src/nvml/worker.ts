/*
 * The NVML worker thread: it owns the library, blocks in Atomics.wait until the main thread asks for a
 * reading, reads every GPU synchronously and answers through shared memory. A driver call that hangs
 * blocks this thread only; the agent's event loop and its tick go on.
 */
import { parentPort, workerData } from "node:worker_threads";
import { NvmlReader, type LogLevel, type ReaderOptions } from "./reader.js";
import { REQUEST, RESPONSE, STOP, views } from "./shared.js";

export interface WorkerData {
  buffers: SharedArrayBuffer[];
  options: ReaderOptions;
}

export type WorkerMessage =
  | { type: "log"; level: LogLevel; message: string; fields?: Record<string, unknown> }
  | { type: "state"; closedKind: string | null };

const { buffers, options } = workerData as WorkerData;
const shared = views(buffers);
const post = (message: WorkerMessage) => parentPort?.postMessage(message);
const reader = new NvmlReader(options, shared, (level, message, fields) => post({ type: "log", level, message, fields }));

let postedKind: string | null | undefined;

function postState(): void {
  if (reader.closedKind !== postedKind) post({ type: "state", closedKind: (postedKind = reader.closedKind) });
}

function answer(): void {
  reader.poll(Date.now());
  postState();
  Atomics.add(shared.control, RESPONSE, 1);
  Atomics.notify(shared.control, RESPONSE);
}

reader.prepare(Date.now());
postState();
let seen = 0;
for (;;) {
  Atomics.wait(shared.control, REQUEST, seen);
  seen = Atomics.load(shared.control, REQUEST);
  if (seen === STOP) break;
  answer();
}
reader.close();
