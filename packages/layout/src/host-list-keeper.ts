import {
  ensureHostListed,
  HOST_LIST_MAX_AGE_MS,
  logHostListUpdate,
  parseListTimestamp,
  updateHostList,
  type HostListLogger,
  type HostListUpdate,
  type UpdateHostListOptions,
} from "./host-list.js";
import { listKey } from "./keys.js";
import type { ObjectStore, StoredObject } from "./store.js";

/** The timer functions list.json refreshes are scheduled with (tests pass their own). */
export interface RefreshTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a refresh waiting for its time never keeps the process alive. */
export const NODE_TIMERS: RefreshTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The margin a refresh period keeps below the expiry, for the retries of a refresh that lost its races. */
const EXPIRY_MARGIN_MS = 60_000;
/** The longest pause before a failed refresh is tried again. */
const MAX_RETRY_PAUSE_MS = 15_000;

export interface HostListKeeperOptions extends UpdateHostListOptions {
  /** 0: list.json is updated with every upload, in the upload. Otherwise the refresh period, in the background. */
  refreshMs: number;
  /** A refresh happens up to this much before the period is over, at random (default a quarter of the period). */
  jitterMs?: number;
  /** Logs background updates and each change between "listed" and "list.json not updated". */
  logger?: HostListLogger;
  timers?: RefreshTimers;
  /** Milliseconds since the epoch on the clock the upload times (`now`) come from (default Date.now). */
  clock?: () => number;
  random?: () => number;
}

/** What became of list.json in one upload. */
export interface ListingResult {
  /** The update this upload made, or a background one not reported yet; `undefined` when none. */
  update: HostListUpdate | undefined;
  /** list.json could not be updated in this upload (other writers won every race); the sample itself is stored. */
  error: Error | undefined;
}

/**
 * Keeps one host's entry in list.json, as the original agent's "updated on each upload" within what one shared
 * object can carry. The first listing is urgent: it happens in the upload; if every compare-and-swap lost, the
 * sample is not failed, and with a refresh period the listing is retried in the background after a random pause
 * until it succeeds (without one, the next upload tries again). Once
 * listed, with a refresh period, the entry is rewritten in the background at a random time in the last
 * `jitterMs` of the period (a fleet whose ticks share the same second does not refresh in that second), with
 * the time of the host's latest upload, and retried after a short pause until it succeeds.
 */
export class HostListKeeper {
  private readonly periodMs: number;
  /** The longest an entry may go without a refresh: the expiry less the margin. */
  private readonly latestMs: number;
  private readonly jitterMs: number;
  private readonly timers: RefreshTimers;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly key: string;
  private host = "";
  /** The upload time our entry in list.json holds (ms), once listed. */
  private listedAt: number | undefined;
  private lastUpload: Date | undefined;
  private timer: unknown;
  private refreshing: Promise<void> | undefined;
  /** A refresh came due without an upload since the last listing: the next upload starts it. */
  private due = false;
  private unreported: HostListUpdate | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly store: ObjectStore, private readonly options: HostListKeeperOptions) {
    const maxAgeMs = options.maxAgeMs ?? HOST_LIST_MAX_AGE_MS;
    this.latestMs = Math.max(0, maxAgeMs - EXPIRY_MARGIN_MS);
    this.periodMs = Math.min(options.refreshMs, this.latestMs);
    this.jitterMs = Math.min(options.jitterMs ?? this.periodMs / 4, this.periodMs);
    this.timers = options.timers ?? NODE_TIMERS;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.key = listKey(options.prefix ?? "");
  }

  private get periodic(): boolean {
    return this.options.refreshMs > 0;
  }

  /** Whether every upload updates list.json in the upload itself (no refresh period, no verification). */
  get listsEveryUpload(): boolean {
    return !this.periodic && !this.options.verify;
  }

  /** After `<host>.json` was written for an upload at `now`; `firstRead`: list.json as read meanwhile. */
  async uploaded(host: string, now: Date, firstRead?: Promise<StoredObject | undefined>): Promise<ListingResult> {
    this.host = host;
    this.lastUpload = now;
    if (this.periodic && this.listedAt !== undefined) {
      if (this.due) this.startRefresh(0);
      if (this.options.verify) return this.inline(() => ensureHostListed(this.store, host, now, this.options), now);
      return { update: this.takeUnreported(), error: undefined };
    }
    // Not listed yet, and a first listing that lost every race is being retried in the background: not again here.
    if (this.periodic && (this.timer !== undefined || this.refreshing)) return { update: this.takeUnreported(), error: undefined };
    // Not listed yet (or every upload updates list.json): in the upload. A periodic writer starting with its
    // entry already fresh in list.json (a restart) leaves it as it is.
    const skipIfListedSince = this.periodic ? now.getTime() - this.periodMs / 2 : undefined;
    // The options as given when nothing is added: a spread copy each upload cost more than the list.json merge.
    const options = skipIfListedSince === undefined && firstRead === undefined ? this.options : { ...this.options, skipIfListedSince, firstRead };
    return this.inline(() => updateHostList(this.store, host, now, options), now);
  }

  /** Resolves once no background refresh is under way (one waiting for its time is not waited for). */
  async idle(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  /** Stops the background refreshes; waits for one under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.refreshing;
  }

  private async inline(work: () => Promise<HostListUpdate | undefined>, now: Date): Promise<ListingResult> {
    let update: HostListUpdate | undefined;
    try {
      update = await work();
    } catch (error) {
      if ((error as Error).name !== "HostListConflictError") throw error;
      if (!this.periodic) {
        this.failed(error as Error, "at the next upload");
        return { update: this.takeUnreported(), error: error as Error };
      }
      // A whole fleet starting (or ticking) on the same second would retry on the same second again at its next
      // upload: the first listing is retried in the background instead, after a random pause.
      const pauseMs = this.retryPauseMs();
      this.failed(error as Error, `in ${Math.round(pauseMs / 1000)} s`);
      this.startRefresh(pauseMs);
      return { update: this.takeUnreported(), error: error as Error };
    }
    if (update) this.succeeded(update, now);
    return { update: update ?? this.takeUnreported(), error: undefined };
  }

  private succeeded(update: HostListUpdate, stamp: Date): void {
    const entry = update.written ? stamp.getTime() : parseListTimestamp(update.list[this.host]);
    this.listedAt = entry ?? stamp.getTime();
    if (this.failures > 0) this.options.logger?.info(`${this.key} lists ${this.host} again, after ${this.failures} failed attempt(s)`);
    this.failures = 0;
    if (!this.periodic) return;
    // A period after this write, but never later than the expiry allows counting from the entry's time (a
    // background refresh writes the latest upload's time, up to an interval old).
    const early = this.random() * this.jitterMs;
    const now = this.clock();
    this.schedule(Math.min(now + this.periodMs, this.listedAt + this.latestMs) - early - now);
  }

  private failed(error: Error, retry: string): void {
    this.failures += 1;
    const message = `${this.key} not updated for ${this.host}: ${error.message}; the samples are stored, list.json is tried again ${retry}`;
    if (this.failures === 1) this.options.logger?.warn({ err: error.message }, message);
    else this.options.logger?.debug({ failures: this.failures }, message);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.startRefresh(0);
    }, Math.max(0, delayMs));
  }

  private startRefresh(delayMs: number): void {
    this.due = false;
    if (delayMs > 0) return this.schedule(delayMs);
    if (this.refreshing || this.closed) return;
    this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
  }

  private async refresh(): Promise<void> {
    const stamp = this.lastUpload;
    if (!stamp || (this.listedAt !== undefined && stamp.getTime() <= this.listedAt)) {
      this.due = true;
      return;
    }
    try {
      const update = await updateHostList(this.store, this.host, stamp, this.options);
      if (this.options.logger) logHostListUpdate(this.options.logger, update);
      else this.unreported = update;
      this.succeeded(update, stamp);
    } catch (error) {
      if (this.closed) return;
      const pauseMs = this.retryPauseMs();
      this.failed(error as Error, `in ${Math.round(pauseMs / 1000)} s`);
      this.startRefresh(pauseMs);
    }
  }

  /** 1 s plus a random pause of up to the jitter (at least 1 s, at most 15 s). */
  private retryPauseMs(): number {
    return 1000 + this.random() * Math.min(MAX_RETRY_PAUSE_MS, Math.max(this.jitterMs, 1000));
  }

  private takeUnreported(): HostListUpdate | undefined {
    const update = this.unreported;
    this.unreported = undefined;
    return update;
  }
}
