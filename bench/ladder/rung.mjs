// One rung of the ladder (bench/ladder/run.mjs): the default preset's collectors on the agent's 1 s schedule,
// with more of the real agent around them on each rung.
//   collectors  the four collector plugins on bare tapable hooks (no runtime), the floor's writes
//   runtime     the runtime's collect (per-plugin deadline and error wrapper, fragment schema checks, assembly),
//               then JSON.stringify and the floor's writes
//   sink-file   the runtime's collect and emit (delivery lane) into sink-file (layout and file store)
// Usage: node bench/ladder/rung.mjs collectors|runtime|sink-file DIR   (runs until killed)
import cpu from "@resourcemonitor/plugin-cpu";
import memory from "@resourcemonitor/plugin-memory";
import nvidia from "@resourcemonitor/plugin-nvidia";
import thermal from "@resourcemonitor/plugin-thermal";
import { compile, createHooks, createLogger, deepMerge, isoSecond, Runtime } from "@resourcemonitor/runtime";
import fileSink from "@resourcemonitor/sink-file";
import { createFloorWriter, everySecond } from "../floor-writes.mjs";

const COLLECTORS = [cpu, memory, thermal, nvidia];
const [mode, dir, host = "ladder-host"] = process.argv.slice(2);
if (!["collectors", "runtime", "sink-file"].includes(mode) || !dir) throw new Error("usage: node bench/ladder/rung.mjs collectors|runtime|sink-file DIR [HOST]");
const settings = { hostname: host, intervalMs: 1000, procfs: "/proc", sysfs: "/sys", dataDir: dir, stateDir: `${dir}/.state` };
const logger = createLogger({ level: "warn" });

/** The collectors' own work: each plugin applied to bare hooks, its options filled in as the runtime does. */
async function bareCollectors() {
  const hooks = createHooks();
  for (const definition of COLLECTORS) {
    const options = {};
    compile(definition.optionsSchema)(options);
    definition.apply({ hooks, options, settings, logger });
  }
  await hooks.start.promise();
  return async (time) => {
    const document = { timestamp: isoSecond(time), hostname: host };
    await hooks.collect.promise({ time, merge: (fragment) => deepMerge(document, fragment) });
    return document;
  };
}

async function runtimeCollect(withFileSink) {
  const runtime = new Runtime({ settings, logger });
  for (const definition of COLLECTORS) runtime.use({ definition });
  if (withFileSink) runtime.use({ definition: fileSink, options: { dir } });
  await runtime.start();
  return runtime;
}

if (mode === "sink-file") {
  const runtime = await runtimeCollect(true);
  everySecond(async (slot) => {
    const document = await runtime.collect(new Date(slot));
    if (document) await runtime.emit(document, { waitMs: 1000 });
  });
} else {
  const write = createFloorWriter(dir, host);
  const runtime = mode === "runtime" ? await runtimeCollect(false) : undefined;
  const collect = runtime ? (time) => runtime.collect(time) : await bareCollectors();
  everySecond(async (slot) => {
    const document = await collect(new Date(slot));
    if (document) write(document.timestamp, JSON.stringify(document));
  });
}
