// A collector that blocks the whole process for 1.3 s in its second tick, as a stalled machine or a slow
// synchronous call would: that tick ends 300 ms into the next slot.
let ticks = 0;
export default {
  apiVersion: 1,
  name: "stalls",
  kind: "collector",
  description: "blocks the process for 1.3 s in its second tick",
  optionsSchema: { type: "object" },
  fragmentSchema: { type: "object", properties: { stalls: { type: "object", required: ["tick"] } } },
  apply({ hooks }) {
    hooks.collect.tap("stalls", (sample) => {
      ticks += 1;
      if (ticks === 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1300);
      sample.merge({ stalls: { tick: ticks } });
    });
  },
};
