import type { Tap } from "tapable";
import type { ValidateFunction } from "ajv";
import type { Logger } from "pino";
import { join } from "node:path";
import { DEFAULT_DELIVERY, SinkLane, type DeliveryOptions, type SinkHealth } from "./delivery.js";
import { createHooks } from "./hooks.js";
import { LateTimer } from "./late-timer.js";
import { assertFields, copyInto, mergeTaking } from "./merge.js";
import { BASE_DOCUMENT_SCHEMA } from "./schema.js";
import { compile, formatErrors } from "./validation.js";
import type {
  Delivery,
  EmitReport,
  Hooks,
  JsonSchema,
  MetricsDocument,
  PluginDefinition,
  Sample,
  Settings,
} from "./plugin.js";
import { RUNTIME_API_VERSION } from "./plugin.js";

export interface RuntimeOptions {
  settings: Settings;
  logger: Logger;
  /** Default time a collector may take per tick; well under the interval. */
  collectTimeoutMs?: number;
  /** Default time a sink may take per write. */
  emitTimeoutMs?: number;
  /** Spool limits, retry backoff, report interval and flush deadline; each defaults to DEFAULT_DELIVERY's. */
  delivery?: Partial<DeliveryOptions>;
}

export interface EmitOptions {
  /** How long the tick waits for a sink before spooling the document (default: the sink's timeout). */
  waitMs?: number;
}

/** Every plugin's counters and every sink's delivery figures. */
export interface RuntimeHealth {
  plugins: ({ name: string; kind: string } & PluginStats)[];
  sinks: SinkHealth[];
}

export interface PluginUse {
  definition: PluginDefinition<never>;
  /** Options as configured (without `name`); validated against the plugin's optionsSchema here. */
  options?: Record<string, unknown>;
  /** Per-plugin timeout override, in milliseconds. */
  timeoutMs?: number;
  /** Where the entry came from, for error messages (e.g. `resourcemonitor.config.yaml $.collectors[2]`). */
  source?: string;
}

/** Counters of one plugin since start. */
export interface PluginStats {
  runs: number;
  failures: number;
  lastError?: string;
}

export interface LoadedPlugin {
  readonly index: number;
  readonly definition: PluginDefinition<never>;
  readonly options: Record<string, unknown>;
  readonly timeoutMs: number;
  readonly stats: PluginStats;
  readonly validateFragment?: ValidateFunction;
}

export class PluginOptionsError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: invalid options:\n  ${problems.join("\n  ")}`);
    this.name = "PluginOptionsError";
  }
}

class TimeoutError extends Error {}

type AnyTap = Tap & { fn: (...args: unknown[]) => unknown; type: "sync" | "async" | "promise" };

/** Turns a tap of any style into a function returning a promise. */
function asPromise(tap: AnyTap): (...args: unknown[]) => Promise<unknown> {
  const fn = tap.fn;
  if (tap.type === "promise") return (...args) => Promise.resolve(fn(...args));
  if (tap.type === "async") {
    return (...args) => new Promise((resolve, reject) => fn(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result))));
  }
  return async (...args) => fn(...args);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The state of one tick, passed as the `collect` hook's argument. */
class TickSample implements Sample {
  readonly fragments = new Map<number, Record<string, unknown>>();
  private readonly deadlines = new Map<number, { expired: Promise<never>; timer: LateTimer }>();
  constructor(readonly time: Date) {}

  /**
   * Rejects `ms` after the collectors started. Collectors run in parallel and start together, so those with the
   * same timeout share one timer: at 1 Hz a timer per collector cost more than some collectors' own reads.
   */
  deadline(ms: number): Promise<never> {
    let deadline = this.deadlines.get(ms);
    if (!deadline) {
      let timer: LateTimer | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = new LateTimer(ms, () => reject(new TimeoutError(`timed out after ${ms} ms`)));
      });
      expired.catch(() => undefined); // only the collectors still running when it fires need to hear it
      deadline = { expired, timer: timer as LateTimer };
      this.deadlines.set(ms, deadline);
    }
    return deadline.expired;
  }

  /** Every collector answered or timed out: no timer outlives the tick. */
  finish(): void {
    for (const { timer } of this.deadlines.values()) timer.cancel();
  }

  merge(): void {
    throw new Error("merge() on the tick itself: use the sample passed to your collect tap");
  }
}

/**
 * Owns the hooks and the plugins tapped into them. Every tap is wrapped where it is registered:
 * collectors get a timeout, error capture and a fragment schema check; sinks get a timeout and
 * error capture; a failing plugin costs only its own part of the tick.
 */
export class Runtime {
  readonly hooks: Hooks = createHooks();
  readonly plugins: LoadedPlugin[] = [];
  readonly settings: Settings;
  private readonly logger: Logger;
  private readonly collectTimeoutMs: number;
  private readonly emitTimeoutMs: number;
  private applying: LoadedPlugin | undefined;
  private readonly validateBase = compile(BASE_DOCUMENT_SCHEMA);
  private lastDocumentProblem: string | undefined;
  private readonly delivery: DeliveryOptions;
  private readonly lanes = new Map<string, SinkLane>();

  constructor({ settings, logger, collectTimeoutMs, emitTimeoutMs, delivery }: RuntimeOptions) {
    this.settings = settings;
    this.logger = logger;
    this.collectTimeoutMs = collectTimeoutMs ?? Math.min(10_000, Math.max(200, settings.intervalMs / 2));
    this.emitTimeoutMs = emitTimeoutMs ?? Math.max(5_000, settings.intervalMs);
    this.delivery = { ...DEFAULT_DELIVERY, ...delivery, spool: { ...DEFAULT_DELIVERY.spool, ...delivery?.spool } };
    this.interceptTaps();
  }

  /** Validates the plugin's options and lets it tap the hooks. */
  use({ definition, options = {}, timeoutMs, source = definition.name }: PluginUse): LoadedPlugin {
    if (definition.apiVersion !== RUNTIME_API_VERSION) {
      throw new PluginOptionsError(source, [
        `plugin "${definition.name}" was built for runtime API ${definition.apiVersion}, this runtime has API ${RUNTIME_API_VERSION}`,
      ]);
    }
    const validOptions = structuredClone(options);
    const validateOptions = compile(definition.optionsSchema);
    if (!validateOptions(validOptions)) throw new PluginOptionsError(source, formatErrors(validateOptions.errors));
    const plugin: LoadedPlugin = {
      index: this.plugins.length,
      definition,
      options: validOptions,
      timeoutMs: timeoutMs ?? (definition.kind === "collector" ? this.collectTimeoutMs : this.emitTimeoutMs),
      stats: { runs: 0, failures: 0 },
      validateFragment: definition.fragmentSchema ? compile(definition.fragmentSchema) : undefined,
    };
    this.plugins.push(plugin);
    this.applying = plugin;
    try {
      definition.apply({
        hooks: this.hooks,
        options: validOptions as never,
        settings: this.settings,
        logger: this.logger.child({ plugin: definition.name }),
      });
    } finally {
      this.applying = undefined;
    }
    return plugin;
  }

  /** The document schema: the base plus every loaded collector's fragment schema. */
  documentSchema(): JsonSchema {
    const fragments = this.plugins.flatMap((plugin) => (plugin.definition.fragmentSchema ? [plugin.definition.fragmentSchema] : []));
    return { allOf: [BASE_DOCUMENT_SCHEMA, ...fragments] };
  }

  /** Starts the plugins, then each sink's spool (replaying what an earlier run left). */
  async start(): Promise<void> {
    await this.hooks.start.promise();
    await Promise.all([...this.lanes.values()].map((lane) => lane.start()));
  }

  /** Runs `collect` and `document` for the slot and validates the result; undefined if it is invalid. */
  async collect(time: Date): Promise<MetricsDocument | undefined> {
    const tick = new TickSample(time);
    try {
      await this.hooks.collect.promise(tick);
    } finally {
      tick.finish();
    }
    const document = this.assemble(tick);
    for (const index of tick.fragments.keys()) this.recordSuccess(this.plugins[index] as LoadedPlugin);
    return document;
  }

  private assemble(tick: TickSample): MetricsDocument | undefined {
    const timestamp = isoSecond(tick.time);
    const assembled: MetricsDocument = { timestamp, hostname: this.settings.hostname };
    let overwriters: LoadedPlugin[] | undefined;
    // The fragments are the runtime's own copies: the document takes their objects, and leaves them as they are
    // for a second assembly without the plugins that broke the first.
    const owned = new Set<object>();
    for (const plugin of this.plugins) {
      const fragment = tick.fragments.get(plugin.index);
      if (fragment) mergeTaking(assembled, fragment, owned, () => (overwriters ??= []).push(plugin));
    }
    // No collector decides which host or second a document belongs to.
    assembled.timestamp = timestamp;
    assembled.hostname = this.settings.hostname;
    // Each fragment passed its own schema; only a transform or one plugin overwriting another's value can break that.
    if (this.hooks.document.taps.length === 0 && !overwriters) return assembled;
    const document = this.hooks.document.call(assembled);
    const problems = this.documentProblems(document, [...tick.fragments.keys()]);
    if (problems.length > 0 && overwriters) {
      // The later writer loses its fragment, as a collector that fails its own schema does; the rest still ships.
      for (const plugin of new Set(overwriters)) {
        tick.fragments.delete(plugin.index);
        this.recordFailure(plugin, `its fragment overwrote another plugin's values and broke the document (${problems.join("; ")}); left out of this tick`);
      }
      return this.assemble(tick);
    }
    return this.reportDocument(problems) ? document : undefined;
  }

  /** Hands the document to every sink; resolves when each stored it or spooled it. */
  async emit(document: MetricsDocument, { waitMs }: EmitOptions = {}): Promise<EmitReport> {
    const report: EmitReport = { sinks: [] };
    emitContexts.set(document, { report, waitMs });
    await this.hooks.emit.promise(document, JSON.stringify(document), LIVE);
    await this.hooks.afterEmit.promise(document, report);
    return report;
  }

  /** Shutdown has begun: ticks in flight stop waiting for slow sinks and spool their documents. */
  cutTickWaits(): void {
    for (const lane of this.lanes.values()) lane.hurryUp();
  }

  /** Gives sinks the flush deadline to finish writes in flight (the rest stays spooled), then stops the plugins. */
  async stop(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.stop()));
    await this.hooks.stop.promise();
  }

  health(): RuntimeHealth {
    return {
      plugins: this.plugins.map(({ definition, stats }) => ({ name: definition.name, kind: definition.kind, ...stats })),
      sinks: [...this.lanes.values()].map((lane) => lane.health()),
    };
  }

  private documentProblems(document: MetricsDocument, contributors: number[]): string[] {
    const problems = this.validateBase(document) ? [] : formatErrors(this.validateBase.errors);
    for (const index of contributors) {
      const validate = this.plugins[index]?.validateFragment;
      if (validate && !validate(document)) problems.push(...formatErrors(validate.errors));
    }
    return problems;
  }

  /** Logs a document problem once, and when documents validate again; true when there is none. */
  private reportDocument(problems: string[]): boolean {
    const summary = problems.join("; ") || undefined;
    if (summary && summary !== this.lastDocumentProblem) {
      this.logger.error({ problems }, `document failed validation and was not emitted: ${summary}`);
    } else if (!summary && this.lastDocumentProblem) {
      this.logger.info("documents validate again");
    }
    this.lastDocumentProblem = summary;
    return !summary;
  }

  private interceptTaps(): void {
    this.hooks.collect.intercept({ register: (tap) => this.wrapCollector(tap as AnyTap) });
    this.hooks.emit.intercept({ register: (tap) => this.wrapSink(tap as AnyTap) });
    this.hooks.document.intercept({ register: (tap) => this.wrapTransform(tap as AnyTap) });
  }

  private owner(hook: string): LoadedPlugin {
    if (!this.applying) throw new Error(`hooks.${hook} may only be tapped from a plugin's apply()`);
    return this.applying;
  }

  private wrapCollector(tap: AnyTap): AnyTap {
    const plugin = this.owner("collect");
    const run = asPromise(tap);
    const fn = async (tick: TickSample): Promise<void> => {
      const fragment: Record<string, unknown> = {};
      let open = true;
      const sample: Sample = {
        time: tick.time,
        merge: (part) => {
          assertFields(part, "sample.merge()");
          if (open) copyInto(fragment, part);
        },
      };
      try {
        await Promise.race([run(sample), tick.deadline(plugin.timeoutMs)]);
        const problems = plugin.validateFragment?.(fragment) === false ? formatErrors(plugin.validateFragment.errors) : [];
        if (problems.length > 0) throw new Error(`fragment failed its schema: ${problems.join("; ")}`);
        // Counted as a success once the document is assembled: the fragment may still break it.
        tick.fragments.set(plugin.index, fragment);
      } catch (error) {
        this.recordFailure(plugin, `${errorText(error)}; its fragment is left out of this tick`);
      } finally {
        open = false;
      }
    };
    return { ...tap, type: "promise", fn: fn as AnyTap["fn"] };
  }

  /** Each sink tap gets a lane: live writes while it keeps up, its own spool and replay when it does not. */
  private wrapSink(tap: AnyTap): AnyTap {
    const plugin = this.owner("emit");
    const run = asPromise(tap) as (document: MetricsDocument, json: string, delivery: Delivery) => Promise<unknown>;
    const lane = new SinkLane(plugin.definition.name, join(this.settings.stateDir, this.laneName(plugin.definition.name)), run, plugin.timeoutMs, this.delivery, plugin.stats, this.logger);
    const slot = this.lanes.size;
    this.lanes.set(lane.dir, lane);
    const fn = async (document: MetricsDocument, json: string): Promise<void> => {
      const started = performance.now();
      const context = emitContexts.get(document);
      const result = await lane.deliver(document, json, Math.min(plugin.timeoutMs, context?.waitMs ?? plugin.timeoutMs));
      // In configuration order, whichever answered first.
      if (context) context.report.sinks[slot] = { plugin: plugin.definition.name, ...result, durationMs: performance.now() - started };
    };
    return { ...tap, type: "promise", fn: fn as AnyTap["fn"] };
  }

  /** The spool folder's name: the sink's name as a safe file name, numbered when two taps share it. */
  private laneName(name: string): string {
    const base = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_") || "sink";
    let candidate = base;
    for (let n = 2; this.lanes.has(join(this.settings.stateDir, candidate)); n += 1) candidate = `${base}-${n}`;
    return candidate;
  }

  private wrapTransform(tap: AnyTap): AnyTap {
    const plugin = this.owner("document");
    const fn = (document: MetricsDocument): MetricsDocument => {
      try {
        const result = tap.fn(structuredClone(document)) as MetricsDocument | undefined;
        this.recordSuccess(plugin);
        return result ?? document;
      } catch (error) {
        this.recordFailure(plugin, `document transform failed: ${errorText(error)}; skipped this tick`);
        return document;
      }
    };
    return { ...tap, fn: fn as AnyTap["fn"] };
  }

  private recordSuccess(plugin: LoadedPlugin): void {
    const { stats } = plugin;
    stats.runs += 1;
    if (stats.lastError === undefined) return;
    this.logger.info({ plugin: plugin.definition.name, failures: stats.failures }, `plugin ${plugin.definition.name} recovered`);
    stats.lastError = undefined;
  }

  /** Warns once per distinct problem, not once per tick. */
  private recordFailure(plugin: LoadedPlugin, problem: string): void {
    const { stats } = plugin;
    stats.runs += 1;
    stats.failures += 1;
    const name = plugin.definition.name;
    if (stats.lastError === problem) {
      this.logger.debug({ plugin: name, failures: stats.failures }, `plugin ${name}: ${problem}`);
    } else {
      this.logger.warn({ plugin: name, failures: stats.failures }, `plugin ${name}: ${problem}`);
    }
    stats.lastError = problem;
  }
}

const emitContexts = new WeakMap<MetricsDocument, { report: EmitReport; waitMs: number | undefined }>();
/** What the runtime passes to the emit hook; each sink's wrapper makes its own Delivery. */
const LIVE: Delivery = { replay: false, latest: true, signal: new AbortController().signal };

/** ISO-8601 UTC to the second: `2025-08-05T14:30:22Z`. */
export function isoSecond(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}
