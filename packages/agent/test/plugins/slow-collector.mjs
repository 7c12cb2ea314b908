// A collector that takes 700 ms per tick: used to check that shutdown waits for the tick in flight.
export default {
  apiVersion: 1,
  name: "slow",
  kind: "collector",
  description: "takes 700 ms per tick",
  optionsSchema: { type: "object" },
  fragmentSchema: { type: "object", properties: { slow: { type: "object", required: ["finished"] } } },
  apply({ hooks }) {
    hooks.collect.tapPromise("slow", async (sample) => {
      process.stderr.write(`{"msg":"slow tick started"}\n`);
      await new Promise((resolve) => setTimeout(resolve, 700));
      sample.merge({ slow: { finished: new Date().toISOString() } });
    });
  },
};
