export interface Clock {
  now(): number;
}

export interface SchedulerStats {
  ticks: number;
  /** Slots that passed while a tick overran and were not run. */
  skipped: number;
}

/**
 * Fires `run` at wall-clock multiples of the interval (…:00, …:10, … for 10 s). A tick that overruns its
 * slot makes the scheduler skip the slots it missed and count them, instead of running them back to back;
 * one that ends no more than `graceMs` into the next slot lets that slot run, that much late.
 */
export class Scheduler {
  readonly stats: SchedulerStats = { ticks: 0, skipped: 0 };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;

  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly run: (slot: Date) => Promise<void>;
  private readonly onError: (error: unknown) => void;
  private readonly onSkip: ((first: Date, count: number, overran: Date) => void) | undefined;
  private readonly clock: Clock;

  /** `onSkip`: the first of `count` slots not run because the tick of `overran` ended past their start (and grace). */
  constructor(options: {
    intervalMs: number;
    graceMs?: number;
    run: (slot: Date) => Promise<void>;
    onError: (error: unknown) => void;
    onSkip?: (first: Date, count: number, overran: Date) => void;
    clock?: Clock;
  }) {
    this.intervalMs = options.intervalMs;
    this.graceMs = Math.min(options.graceMs ?? 0, options.intervalMs / 2);
    this.run = options.run;
    this.onError = options.onError;
    this.onSkip = options.onSkip;
    this.clock = options.clock ?? Date;
  }

  start(): void {
    this.stopped = false;
    this.arm(Math.floor(this.clock.now() / this.intervalMs) + 1);
  }

  /** Stops scheduling and waits for the tick in flight, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private arm(slot: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, slot * this.intervalMs - this.clock.now());
    this.timer = setTimeout(() => this.fire(slot), delay);
  }

  private fire(slot: number): void {
    // Timers run on the monotonic clock; if the wall clock is still short of the slot, wait for it.
    if (this.clock.now() < slot * this.intervalMs) return this.arm(slot);
    this.inFlight = this.runSlot(slot);
  }

  private async runSlot(slot: number): Promise<void> {
    this.stats.ticks += 1;
    try {
      await this.run(new Date(slot * this.intervalMs));
    } catch (error) {
      this.onError(error);
    } finally {
      const next = Math.max(slot + 1, Math.floor((this.clock.now() - this.graceMs) / this.intervalMs) + 1);
      const skipped = next - slot - 1;
      this.inFlight = undefined;
      this.arm(next);
      if (skipped > 0) {
        this.stats.skipped += skipped;
        this.onSkip?.(new Date((slot + 1) * this.intervalMs), skipped, new Date(slot * this.intervalMs));
      }
    }
  }
}
