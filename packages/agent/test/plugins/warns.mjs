// A collector whose dependency emits a Node process warning once (as the AWS SDK's Node-version notice does).
export default {
  apiVersion: 1,
  name: "warns",
  kind: "collector",
  description: "emits a multi-line process warning at start",
  optionsSchema: { type: "object" },
  apply({ hooks }) {
    hooks.start.tap("warns", () => process.emitWarning("SomeSupportWarning: this library\nwill need a newer Node.\n\nMore at https://example.invalid"));
    hooks.collect.tap("warns", (sample) => sample.merge({ warns: { ok: true } }));
  },
};
