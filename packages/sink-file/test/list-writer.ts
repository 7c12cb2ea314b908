// Child process of host-list-processes.test.ts: updates list.json in `dir` as `host` until `ms` have passed.
// Prints "wrote" after its first successful update and "done <updates>" at the end.
import { updateHostList } from "@resourcemonitor/layout";
import { createFileStore } from "../src/file-store.js";

const [dir, host, ms] = process.argv.slice(2);
if (!dir || !host || !ms) throw new Error("usage: list-writer.ts DIR HOST MILLISECONDS");
const store = createFileStore(dir);
const end = Date.now() + Number(ms);
let updates = 0;
while (Date.now() < end) {
  await updateHostList(store, host, new Date(), { maxAttempts: 1000, baseDelayMs: 1, maxDelayMs: 20 });
  if (updates === 0) process.stdout.write("wrote\n");
  updates += 1;
}
process.stdout.write(`done ${updates}\n`);
