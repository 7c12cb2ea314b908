import type { Logger } from "pino";
import { LateTimer } from "./late-timer.js";
import type { Delivery, MetricsDocument } from "./plugin.js";
import { DEFAULT_SPOOL_LIMITS, Spool, type SpoolLimits, type SpoolStats } from "./spool.js";

export interface DeliveryOptions {
  spool: SpoolLimits;
  /** First pause before retrying a failing sink; doubles per failure, with jitter, up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** How often a sink that stays down is logged again, with its spool depth. */
  reportEveryMs: number;
  /** How long `stop` lets writes in flight finish; what does not make it stays spooled. */
  flushTimeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  spool: DEFAULT_SPOOL_LIMITS,
  retryInitialMs: 1000,
  retryMaxMs: 30_000,
  reportEveryMs: 5 * 60_000,
  flushTimeoutMs: 5000,
};

export type SinkState = "up" | "down" | "replaying";

/** One sink's delivery figures, for the status file and the periodic health log line. */
export interface SinkHealth extends SpoolStats {
  sink: string;
  state: SinkState;
  spoolDir: string;
  delivered: number;
  replayed: number;
  failures: number;
  lastError?: string;
  lastErrorAt?: string;
  downSince?: string;
}

export type SinkWrite = (document: MetricsDocument, json: string, delivery: Delivery) => Promise<unknown>;

export interface LaneCounters {
  runs: number;
  failures: number;
  lastError?: string;
}

const NOT_YET = Symbol("no answer yet");

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/**
 * Delivery to one sink: writes live while the sink keeps up and nothing is queued; otherwise appends to the
 * sink's spool (durably, before the tick is done) and replays the spool in order, with exponential backoff
 * and jitter while the sink keeps failing. A newer sample never overtakes a spooled one.
 */
export class SinkLane {
  private spool: Spool | undefined;
  private inFlight: Promise<void> | undefined;
  private abortInFlight: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  /** Set once shutdown begins: a tick in flight stops waiting for the sink and spools its document. */
  private hurried = false;
  private hurry: (() => void) | undefined;
  private retries = 0;
  private downSince: number | undefined;
  private lastReportAt = 0;
  private replayedThisOutage = 0;
  private lastError: { text: string; at: number } | undefined;
  private readonly counts = { delivered: 0, replayed: 0 };

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly write: SinkWrite,
    private readonly timeoutMs: number,
    private readonly options: DeliveryOptions,
    private readonly stats: LaneCounters,
    private readonly logger: Logger,
  ) {}

  /** Opens the spool; replays what an earlier run left in it. */
  async start(): Promise<void> {
    this.stopping = this.hurried = false;
    const spool = await this.openSpool();
    if (spool.depth === 0) return;
    this.logger.info({ sink: this.name, depth: spool.depth, dir: this.dir }, `sink ${this.name}: ${spool.depth} samples spooled by an earlier run in ${this.dir}; replaying them first`);
    this.kick();
  }

  /**
   * Hands one tick's document to the sink, waiting at most `waitMs` for it. Resolves once the sink stored it
   * or once it is durably spooled; never rejects.
   */
  async deliver(document: MetricsDocument, json: string, waitMs: number): Promise<{ ok: boolean; spooled: boolean; error?: string }> {
    const spool = this.spool ?? (await this.openSpool());
    if (spool.depth > 0 || this.inFlight || this.stopping || this.hurried) return this.enqueue(json);
    const attempt = this.attempt(document, json, { replay: false, latest: true }).then(() => undefined, (error: unknown) => error ?? new Error("failed"));
    let timer: LateTimer | undefined;
    const answer = await Promise.race([
      attempt,
      new Promise<typeof NOT_YET>((resolve) => {
        this.hurry = () => resolve(NOT_YET);
        if (waitMs < this.timeoutMs) timer = new LateTimer(waitMs, () => resolve(NOT_YET));
      }),
    ]);
    timer?.cancel();
    this.hurry = undefined;
    if (answer === undefined) {
      this.succeeded();
      this.counts.delivered += 1;
      return { ok: true, spooled: false };
    }
    // Too slow: the write goes on in the background; the sample is spooled in case it fails.
    if (answer !== NOT_YET) this.failed(answer);
    else if (!this.hurried) this.failed(new Error(`no answer within ${Math.round(waitMs)} ms (write still in flight)`));
    return this.enqueue(json);
  }

  /** Shutdown has begun: a tick waiting for this sink spools its document now instead. */
  hurryUp(): void {
    this.hurried = true;
    this.hurry?.();
  }

  /** Stops replaying, gives writes in flight until the flush deadline, and closes the spool. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const settled = Promise.all([this.draining, this.inFlight?.catch(() => undefined)]);
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([settled.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, this.options.flushTimeoutMs, false)))]);
    clearTimeout(timer);
    if (!inTime) this.abortInFlight?.();
    const depth = this.spool?.depth ?? 0;
    if (depth > 0) {
      this.logger.warn({ sink: this.name, depth, dir: this.dir }, `sink ${this.name}: ${depth} samples stay spooled in ${this.dir}; the next start delivers them`);
    }
    await this.spool?.close();
  }

  health(): SinkHealth {
    const spool = this.spool?.snapshot() ?? { depth: 0, bytes: 0, inMemory: 0, dropped: 0, corrupt: 0 };
    const state: SinkState = this.downSince !== undefined ? "down" : spool.depth > 0 ? "replaying" : "up";
    return {
      sink: this.name,
      state,
      spoolDir: this.dir,
      ...spool,
      delivered: this.counts.delivered,
      replayed: this.counts.replayed,
      failures: this.stats.failures,
      ...(this.lastError ? { lastError: this.lastError.text, lastErrorAt: new Date(this.lastError.at).toISOString() } : {}),
      ...(this.downSince ? { downSince: new Date(this.downSince).toISOString() } : {}),
    };
  }

  private async openSpool(): Promise<Spool> {
    this.spool ??= await Spool.open(this.dir, this.options.spool, this.logger.child({ sink: this.name }));
    return this.spool;
  }

  private async enqueue(json: string): Promise<{ ok: boolean; spooled: boolean; error?: string }> {
    await this.spool?.append({ time: Date.now(), json });
    this.kick();
    return { ok: false, spooled: true, ...(this.stats.lastError ? { error: this.stats.lastError } : {}) };
  }

  /** One write under the sink's timeout; its signal aborts on timeout or when shutdown gives up on it. */
  private attempt(document: MetricsDocument, json: string, kind: Omit<Delivery, "signal">): Promise<void> {
    const delivery = new LaneDelivery(kind.replay, kind.latest);
    let timer: LateTimer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = new LateTimer(this.timeoutMs, () => {
        const error = new Error(`timed out after ${this.timeoutMs} ms`);
        delivery.abort(error);
        reject(error);
      });
    });
    const write = new Promise<unknown>((resolve) => resolve(this.write(document, json, delivery)));
    const tracked: Promise<void> = Promise.race([write, timeout]).then(
      () => undefined,
      (error: unknown) => Promise.reject(error instanceof Error ? error : new Error(String(error))),
    ).finally(() => {
      timer?.cancel();
      if (this.inFlight === tracked) this.inFlight = this.abortInFlight = undefined;
    });
    this.inFlight = tracked;
    this.abortInFlight = () => delivery.abort(new Error("the agent is stopping"));
    this.stats.runs += 1;
    return tracked;
  }

  private kick(): void {
    if (this.draining || this.stopping) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if ((this.spool?.depth ?? 0) > 0 && !this.stopping) this.kick();
    });
  }

  /** Replays the spool oldest first, one at a time, pausing with backoff while the sink fails. */
  private async drain(): Promise<void> {
    const spool = this.spool as Spool;
    while (!this.stopping) {
      if (this.inFlight) {
        await this.inFlight.catch(() => undefined);
        continue;
      }
      if (this.retries > 0) await this.pause(this.backoffMs());
      if (this.stopping) return;
      const record = await spool.peek();
      if (!record) break;
      const document = parseDocument(record.json);
      if (!document) {
        this.logger.warn({ sink: this.name }, `sink ${this.name}: a spooled record is not a JSON document; skipped`);
        await spool.ack();
        continue;
      }
      try {
        await this.attempt(document, record.json, { replay: true, latest: spool.depth === 1 });
      } catch (error) {
        this.failed(error);
        continue;
      }
      await spool.ack();
      this.counts.replayed += 1;
      this.replayedThisOutage += 1;
      this.retries = 0;
    }
    if (spool.depth === 0) this.succeeded();
  }

  private backoffMs(): number {
    const ceiling = Math.min(this.options.retryMaxMs, this.options.retryInitialMs * 2 ** Math.min(30, this.retries - 1));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private failed(error: unknown): void {
    const text = errorText(error);
    this.stats.failures += 1;
    this.stats.lastError = text;
    this.lastError = { text, at: Date.now() };
    this.retries += 1;
    if (this.downSince === undefined) {
      this.downSince = this.lastReportAt = Date.now();
      this.replayedThisOutage = 0;
      this.logger.warn(
        { sink: this.name, dir: this.dir },
        `sink ${this.name} is down: ${text}; spooling samples in ${this.dir} and retrying with backoff (${this.options.retryInitialMs / 1000} s up to ${this.options.retryMaxMs / 1000} s)`,
      );
      return;
    }
    this.logger.debug({ sink: this.name, retries: this.retries }, `sink ${this.name}: retry failed: ${text}`);
    if (Date.now() - this.lastReportAt < this.options.reportEveryMs) return;
    this.lastReportAt = Date.now();
    const { depth, bytes, dropped } = this.health();
    this.logger.warn({ sink: this.name, depth, bytes, dropped }, `sink ${this.name} still down after ${minutes(Date.now() - this.downSince)}: ${text}; ${depth} samples spooled (${bytes} bytes), ${dropped} dropped`);
  }

  private succeeded(): void {
    this.retries = 0;
    if (this.downSince !== undefined) {
      this.logger.info(
        { sink: this.name, replayed: this.replayedThisOutage },
        `sink ${this.name} recovered after ${minutes(Date.now() - this.downSince)}: replayed ${this.replayedThisOutage} spooled samples`,
      );
    } else if (this.replayedThisOutage > 0) {
      this.logger.info({ sink: this.name, replayed: this.replayedThisOutage }, `sink ${this.name}: replayed ${this.replayedThisOutage} samples spooled by an earlier run`);
    }
    this.downSince = undefined;
    this.replayedThisOutage = 0;
    this.stats.lastError = undefined;
  }
}

/**
 * One write's Delivery. Its AbortController is made only when the sink asks for the signal: the file sink never
 * does, and making one per write showed in the tick's profile. An abort before the first request is remembered.
 * A class, where an object literal with a getter is built by V8 at run time on every write.
 */
class LaneDelivery implements Delivery {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  constructor(readonly replay: boolean, readonly latest: boolean) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.reason ??= reason;
    this.controller?.abort(reason);
  }
}

function parseDocument(json: string): MetricsDocument | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as MetricsDocument) : undefined;
  } catch {
    return undefined;
  }
}
