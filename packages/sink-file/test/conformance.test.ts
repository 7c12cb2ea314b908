import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sinkConformance } from "@resourcemonitor/runtime/testing";
import fileSink from "../src/index.js";

sinkConformance("sink-file (history/ keeps every document)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rm-sink-file-conformance-"));
  const history = join(dir, "history", "conformance-host");
  return {
    definition: fileSink,
    options: { dir },
    received: async () => {
      const names = (await readdir(history).catch(() => [])).sort();
      return Promise.all(names.map((name) => readFile(join(history, name), "utf8")));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
