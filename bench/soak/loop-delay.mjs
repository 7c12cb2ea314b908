// Opt-in event-loop delay probe for the soak: loaded into the agent with NODE_OPTIONS=--import=<this file>, so the
// agent's own code is unchanged. Every minute it appends one JSON line to $RESOURCEMONITOR_SOAK_LOOP_FILE with the
// delay histogram of that minute (node's monitorEventLoopDelay: a libuv timer every RESOLUTION_MS, no JS per sample).
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setInterval } from "node:timers";

const file = process.env.RESOURCEMONITOR_SOAK_LOOP_FILE;
const RESOLUTION_MS = 20;
const EVERY_MS = 60_000;

if (file) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  setInterval(() => {
    // The histogram includes the resolution itself: a loop that is never late reads RESOLUTION_MS.
    const line = { at: new Date().toISOString(), p50: ms(histogram.percentile(50)) - RESOLUTION_MS, p99: ms(histogram.percentile(99)) - RESOLUTION_MS, max: ms(histogram.max) - RESOLUTION_MS, samples: histogram.count };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    histogram.reset();
  }, EVERY_MS).unref();
}
