import { AsyncParallelHook, AsyncSeriesHook, SyncWaterfallHook } from "tapable";
import type { Delivery, EmitReport, Hooks, MetricsDocument, Sample } from "./plugin.js";

/** Every lifecycle hook of the agent, in the order they run. */
export function createHooks(): Hooks {
  return Object.freeze({
    start: new AsyncSeriesHook<[]>(),
    collect: new AsyncParallelHook<[Sample]>(["sample"]),
    document: new SyncWaterfallHook<[MetricsDocument]>(["document"]),
    emit: new AsyncParallelHook<[MetricsDocument, string, Delivery]>(["document", "json", "delivery"]),
    afterEmit: new AsyncSeriesHook<[MetricsDocument, EmitReport]>(["document", "report"]),
    stop: new AsyncSeriesHook<[]>(),
  });
}
