// A collector that throws every tick.
export default {
  apiVersion: 1,
  name: "throws",
  kind: "collector",
  description: "throws every tick",
  optionsSchema: { type: "object" },
  apply({ hooks }) {
    hooks.collect.tap("throws", () => {
      throw new Error("collector exploded");
    });
  },
};
