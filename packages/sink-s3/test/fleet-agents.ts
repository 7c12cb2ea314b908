// Child process of fleet.test.ts: runs one agent pipeline per host given (runtime, a synthetic collector,
// the s3 sink, the wall-clock scheduler at 1 s) for SECONDS, then prints "done <host> <ok> <failed>" per host.
// Prints "started <host>" once a host's first upload succeeded.
import { createLogger, definePlugin, RUNTIME_API_VERSION, Runtime, Scheduler } from "@resourcemonitor/runtime";
import { testSettings } from "@resourcemonitor/runtime/testing";
import s3Sink from "../src/index.js";

const [endpoint, bucket, seconds, ...hosts] = process.argv.slice(2);
if (!endpoint || !bucket || !seconds || hosts.length === 0) throw new Error("usage: fleet-agents.ts ENDPOINT BUCKET SECONDS HOST...");

/** Stands in for the Linux collectors: the fleet test is about list.json, not about /proc. */
const synthetic = definePlugin({
  apiVersion: RUNTIME_API_VERSION,
  name: "synthetic",
  kind: "collector",
  description: "A random CPU figure.",
  optionsSchema: { type: "object", properties: {} },
  fragmentSchema: { type: "object", properties: { cpu: { type: "object", description: "CPU", properties: { usage_percent: { type: "number", description: "%" } } } } },
  apply({ hooks }) {
    hooks.collect.tapPromise("synthetic", async (sample) => sample.merge({ cpu: { usage_percent: Math.round(Math.random() * 1000) / 10 } }));
  },
});

const logger = createLogger({ level: "warn" });

async function runHost(host: string): Promise<void> {
  const runtime = new Runtime({ settings: testSettings({ hostname: host, intervalMs: 1000 }), logger: logger.child({ host }) });
  runtime.use({ definition: synthetic });
  runtime.use({ definition: s3Sink, options: { bucket, endpoint, forcePathStyle: true } });
  await runtime.start();
  let ok = 0;
  let failed = 0;
  const scheduler = new Scheduler({
    intervalMs: 1000,
    run: async (slot) => {
      const document = await runtime.collect(slot);
      if (!document) return;
      const report = await runtime.emit(document);
      if (report.sinks.every((sink) => sink.ok)) {
        if (ok === 0) process.stdout.write(`started ${host}\n`);
        ok += 1;
      } else failed += 1;
    },
    onError: (error) => logger.error({ err: error, host }, "tick failed"),
  });
  scheduler.start();
  await new Promise((done) => setTimeout(done, Number(seconds) * 1000));
  await scheduler.stop();
  await runtime.stop();
  process.stdout.write(`done ${host} ${ok} ${failed}\n`);
}

await Promise.all(hosts.map(runHost));
