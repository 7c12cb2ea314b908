// A collector that leaks an interval each tick, throws from a timer and leaves a rejection unhandled.
export default {
  apiVersion: 1,
  name: "leaks",
  kind: "collector",
  description: "leaks timers and throws from them",
  optionsSchema: { type: "object" },
  apply({ hooks }) {
    hooks.collect.tap("leaks", (sample) => {
      globalThis.setInterval(() => undefined, 1000);
      setTimeout(() => {
        throw new Error("timer bomb");
      }, 5);
      void Promise.reject(new Error("nobody catches this"));
      sample.merge({ leaks: { ok: true } });
    });
  },
};
