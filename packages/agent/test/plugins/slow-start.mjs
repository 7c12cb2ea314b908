// A collector whose start takes 1.5 s (a device to open, a spool to replay): it says so on stderr first.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  apiVersion: 1,
  name: "slow-start",
  kind: "collector",
  description: "takes 1.5 s to start",
  optionsSchema: { type: "object" },
  apply({ hooks, logger }) {
    hooks.start.tapPromise("slow-start", async () => {
      logger.warn("slow-start: starting");
      await sleep(1500);
    });
    hooks.collect.tap("slow-start", (sample) => sample.merge({ slow_start: { ok: true } }));
  },
};
