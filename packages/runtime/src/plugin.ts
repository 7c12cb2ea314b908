import type { AsyncParallelHook, AsyncSeriesHook, SyncWaterfallHook } from "tapable";
import type { Logger } from "pino";

/** Bumped when the plugin contract changes incompatibly; plugins declare the version they were built for. */
export const RUNTIME_API_VERSION = 1;

/** A JSON schema (draft 2020-12 subset that ajv understands). */
export type JsonSchema = Record<string, unknown>;

/** The document of one tick: `timestamp` and `hostname` plus every collector's fragment. */
export interface MetricsDocument {
  timestamp: string;
  hostname: string;
  [section: string]: unknown;
}

/** What a collector receives on `hooks.collect`: the tick's slot and a place to put its fragment. */
export interface Sample {
  /** The wall-clock slot this tick belongs to (a multiple of the interval). */
  readonly time: Date;
  /**
   * Deep-merges a fragment (e.g. `{ cpu: { usage_percent: 3.1 } }`) into this plugin's contribution; throws a
   * TypeError for anything that is no object of fields (null, an array, a number…), which fails the plugin's tick.
   */
  merge(fragment: Record<string, unknown>): void;
}

/** Agent-wide settings every plugin may read. */
export interface Settings {
  readonly hostname: string;
  readonly intervalMs: number;
  /** Root of the proc file system the Linux collectors read (`/proc`, or the host's /proc mounted in a container). */
  readonly procfs: string;
  /** Root of the sys file system the Linux collectors read. */
  readonly sysfs: string;
  /** Where the file sink keeps the store when no bucket is configured. */
  readonly dataDir: string;
  /** Where the runtime keeps its own state (spool). */
  readonly stateDir: string;
}

/**
 * How a document reaches a sink, the `emit` hook's third argument. A sink that keeps a "latest" view (the
 * layout's `<host>.json` and list.json, a scrape endpoint) updates it only when `latest` is true.
 */
export interface Delivery {
  /** The document comes from the sink's spool: an earlier write of it failed, or the agent restarted. */
  readonly replay: boolean;
  /**
   * False while newer documents wait behind this one: store it in history only. True for a live document,
   * and for a replayed one that is the newest queued (then it may still be older than what the store has).
   */
  readonly latest: boolean;
  /** Aborted when the runtime gives up on this write (its timeout, or shutdown); pass it to the client. */
  readonly signal: AbortSignal;
}

/** Outcome of one sink on one tick. */
export interface SinkOutcome {
  plugin: string;
  /** The sink stored the document in this tick. */
  ok: boolean;
  /** The document went to the sink's spool, to be delivered when the sink recovers. */
  spooled?: boolean;
  error?: string;
  durationMs: number;
}

export interface EmitReport {
  sinks: SinkOutcome[];
}

export interface Hooks {
  /** Once, before the first tick: take baselines, open connections. */
  readonly start: AsyncSeriesHook<[]>;
  /** Every tick, all collectors in parallel, each under the runtime's timeout and schema check. */
  readonly collect: AsyncParallelHook<[Sample]>;
  /** Every tick, transforms of the whole document, in order. */
  readonly document: SyncWaterfallHook<[MetricsDocument]>;
  /**
   * Every tick, every sink in parallel, with the validated document, its JSON text and how it is delivered;
   * a document a sink failed to write comes back later from the sink's spool, with `delivery.replay`.
   */
  readonly emit: AsyncParallelHook<[MetricsDocument, string, Delivery]>;
  /** Every tick, after all sinks answered. */
  readonly afterEmit: AsyncSeriesHook<[MetricsDocument, EmitReport]>;
  /** Once, at shutdown: flush and close, within the stop deadline. */
  readonly stop: AsyncSeriesHook<[]>;
}

export interface PluginContext<Options> {
  readonly hooks: Hooks;
  /** The plugin's options, validated against `optionsSchema` with its defaults filled in. */
  readonly options: Options;
  readonly settings: Settings;
  /** A child logger bound to this plugin's name. */
  readonly logger: Logger;
}

export type PluginKind = "collector" | "sink";

export interface PluginDefinition<Options = Record<string, unknown>> {
  /** Must equal the runtime's RUNTIME_API_VERSION. */
  readonly apiVersion: number;
  /** Short name used in logs and as the tap name, e.g. `cpu`. */
  readonly name: string;
  readonly kind: PluginKind;
  readonly version?: string;
  readonly description: string;
  /** JSON schema of the options object (without `name`); a `description` on every property. */
  readonly optionsSchema: JsonSchema;
  /** Collectors: JSON schema of the fragment they merge into the document. */
  readonly fragmentSchema?: JsonSchema;
  /** Taps hooks, synchronously, and does nothing else. */
  apply(context: PluginContext<Options>): void;
}

/** Identity helper that types and freezes a plugin definition. */
export function definePlugin<Options>(definition: PluginDefinition<Options>): PluginDefinition<Options> {
  return Object.freeze(definition);
}
