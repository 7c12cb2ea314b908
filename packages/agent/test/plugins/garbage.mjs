// A collector that merges values of the wrong type, and then garbage that is no object at all.
export default {
  apiVersion: 1,
  name: "garbage",
  kind: "collector",
  description: "returns garbage",
  optionsSchema: { type: "object" },
  fragmentSchema: { type: "object", properties: { garbage: { type: "object", properties: { value: { type: "number" } } } } },
  apply({ hooks }) {
    let tick = 0;
    hooks.collect.tapPromise("garbage", async (sample) => {
      tick += 1;
      if (tick % 2) sample.merge({ garbage: { value: "not a number" }, cpu: "clobbered" });
      else sample.merge(null);
      return { unexpected: "return value" };
    });
  },
};
