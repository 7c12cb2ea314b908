// A collector whose promise never settles.
export default {
  apiVersion: 1,
  name: "hangs",
  kind: "collector",
  description: "never answers",
  optionsSchema: { type: "object" },
  apply({ hooks }) {
    hooks.collect.tapPromise("hangs", () => new Promise(() => undefined));
  },
};
