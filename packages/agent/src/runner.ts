import { DEFAULT_DELIVERY, Scheduler, type AgentConfig, type Logger } from "@resourcemonitor/runtime";
import { createAgent, type AgentParts } from "./agent.js";
import { healthSummary, writeStatus, type AgentStatus } from "./status.js";
import { VERSION } from "./version.js";

/** The status file is rewritten at the end of a tick once this much has passed since the last write… */
const STATUS_EVERY_MS = 5000;
/**
 * …and by a timer of its own at least this often (long intervals, a spool replayed between ticks). Writing it
 * from the tick costs no wakeup of its own: at 1 Hz a 5 s timer's wakeups alone cost ~20 µs per tick.
 */
const STATUS_FALLBACK_MS = 30_000;
/**
 * A tick waits for a slow sink until this long after the next slot is due, then spools the sample (the write
 * goes on) and ends; the scheduler lets the next slot run that late (`TICK_GRACE_SHARE`) instead of skipping it.
 * The wait's timer expires after the next slot's, so a write that answers in time costs no wakeup: Node never
 * moves its native timer later when a timer is cleared, and a wait ending before the slot, as it did (250 ms
 * before), woke an agent with the S3 sink once more every tick, for nothing.
 */
const SINK_WAIT_PAST_SLOT_MS = 20;
/**
 * How late, as a share of the interval, the next slot may still run after a tick that overran (a slow sink's
 * wait, then the spool's fdatasync on a busy disk, a stalled machine) instead of being skipped and its sample
 * lost; the sample keeps its slot's time. The scheduler allows at most half the interval.
 */
const TICK_GRACE_SHARE = 0.5;

/**
 * The running agent: ticks on the schedule, keeps `<stateDir>/status.json` current, logs a health line every
 * report interval, swaps in a new configuration on reload, and stops cleanly.
 */
export class AgentRunner {
  private scheduler: Scheduler | undefined;
  private readonly startedAt = Date.now();
  private lastTick: { slot: number; finishedAt: number } | undefined;
  private readonly totals = { ticks: 0, skipped: 0 };
  private timers: NodeJS.Timeout[] = [];
  private statusProblem: string | undefined;
  private statusWrittenAt = 0;
  uncaughtErrors = 0;

  constructor(private parts: AgentParts, private config: AgentConfig, private readonly logger: Logger) {}

  async start(): Promise<void> {
    await this.startParts();
    const report = this.config.delivery.reportEveryMs ?? DEFAULT_DELIVERY.reportEveryMs;
    this.timers = [
      setInterval(() => this.saveStatusIfDue(), STATUS_FALLBACK_MS).unref(),
      setInterval(() => this.logger.info({ status: this.status() }, healthSummary(this.status())), report).unref(),
    ];
    this.saveStatus();
  }

  /**
   * Loads and builds the new configuration first; if that fails, the running one stays. Otherwise stops the
   * running one (finishing its tick) and starts the new one, falling back to the old one if that fails to start.
   */
  async reload(load: () => Promise<AgentConfig>): Promise<boolean> {
    let next: { config: AgentConfig; parts: AgentParts };
    try {
      const config = await load();
      next = { config, parts: await createAgent(config, this.logger) };
    } catch (error) {
      this.logger.error(`configuration reload refused, the running configuration stays: ${(error as Error).message}`);
      return false;
    }
    await this.stopParts();
    const previous = { config: this.config, parts: this.parts };
    try {
      await this.use(next);
    } catch (error) {
      this.logger.error(`the new configuration failed to start (${(error as Error).message}); going back to the previous one`);
      await this.use({ config: previous.config, parts: await createAgent(previous.config, this.logger) });
      return false;
    }
    for (const warning of next.config.warnings) this.logger.warn(warning);
    this.logger.info({ collectors: next.config.collectors.map((entry) => entry.name), sinks: next.config.sinks.map((entry) => entry.name) }, "configuration reloaded");
    this.saveStatus();
    return true;
  }

  /** Stops scheduling, finishes the tick in flight, gives sinks the flush deadline, writes the final status. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.stopParts();
    this.saveStatus();
    this.logger.info({ ticks: this.totals.ticks, skipped: this.totals.skipped }, "stopped");
  }

  status(): AgentStatus {
    const health = this.parts.runtime.health();
    const scheduler = this.scheduler?.stats ?? { ticks: 0, skipped: 0 };
    return {
      pid: process.pid,
      version: VERSION,
      hostname: this.config.hostname,
      intervalSeconds: this.config.interval,
      startedAt: new Date(this.startedAt).toISOString(),
      updatedAt: new Date().toISOString(),
      ...(this.lastTick ? { lastTick: { slot: new Date(this.lastTick.slot).toISOString(), finishedAt: new Date(this.lastTick.finishedAt).toISOString() } } : {}),
      ticks: this.totals.ticks + scheduler.ticks,
      skipped: this.totals.skipped + scheduler.skipped,
      uncaughtErrors: this.uncaughtErrors,
      plugins: health.plugins,
      sinks: health.sinks,
    };
  }

  private async use(next: { config: AgentConfig; parts: AgentParts }): Promise<void> {
    this.config = next.config;
    this.parts = next.parts;
    this.logger.level = next.config.logLevel;
    await this.startParts();
  }

  private async startParts(): Promise<void> {
    const { runtime } = this.parts;
    const intervalMs = this.config.interval * 1000;
    await runtime.start();
    this.scheduler = new Scheduler({
      intervalMs,
      graceMs: intervalMs * TICK_GRACE_SHARE,
      run: async (slot) => {
        const document = await runtime.collect(slot);
        if (document) await runtime.emit(document, { waitMs: slot.getTime() + intervalMs + SINK_WAIT_PAST_SLOT_MS - Date.now() });
        this.lastTick = { slot: slot.getTime(), finishedAt: Date.now() };
        this.saveStatusIfDue();
      },
      onError: (error) => this.logger.error({ err: error }, "tick failed"),
      onSkip: (first, count, overran) => {
        const slots = count === 1 ? `slot ${first.toISOString()}` : `${count} slots from ${first.toISOString()}`;
        this.logger.warn({ skippedFrom: first.toISOString(), skipped: count, overran: overran.toISOString() }, `skipped ${slots}: the tick of ${overran.toISOString()} ran past them (a stalled machine or disk); those seconds have no sample`);
      },
    });
    this.scheduler.start();
  }

  private async stopParts(): Promise<void> {
    if (!this.scheduler) return;
    const ticking = this.scheduler.stop();
    // With a long interval the tick may be waiting for a slow sink until shortly before the next slot.
    this.parts.runtime.cutTickWaits();
    await ticking;
    this.totals.ticks += this.scheduler.stats.ticks;
    this.totals.skipped += this.scheduler.stats.skipped;
    this.scheduler = undefined;
    await this.parts.runtime.stop();
  }

  private saveStatusIfDue(): void {
    if (Date.now() - this.statusWrittenAt >= STATUS_EVERY_MS) this.saveStatus();
  }

  private saveStatus(): void {
    this.statusWrittenAt = Date.now();
    try {
      writeStatus(this.config.stateDir, this.status());
      if (this.statusProblem) this.logger.info(`status file in ${this.config.stateDir} written again`);
      this.statusProblem = undefined;
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== this.statusProblem) {
        this.logger.error(`cannot write the status file in ${this.config.stateDir}: ${problem}; sampling goes on, \`resourcemonitor status\` shows old figures. Fix: make stateDir writable`);
      }
      this.statusProblem = problem;
    }
  }
}
