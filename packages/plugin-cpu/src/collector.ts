import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { KernelFile, type Logger } from "@resourcemonitor/runtime";
import { parseCpuinfo, physicalCoresFromCpuinfo } from "./cpuinfo.js";
import { discoverFrequencySource, FrequencyReader, type Frequency } from "./frequency.js";
import { readLeadingLines, readText } from "./read.js";
import { parseStat, perCoreUsage, usagePercent, type StatSnapshot } from "./stat.js";
import { physicalCoresFromSysfs } from "./topology.js";

export interface CpuOptions {
  /** Include `usage_per_core` (else it is `[]`). */
  perCore: boolean;
}

/** What the plugin merges as `cpu` (the thermal plugin adds `temperatures` next to it). */
export interface CpuFragment {
  usage_percent: number | null;
  usage_per_core: number[];
  frequency: Frequency;
  count_logical: number | null;
  count_physical: number | null;
}

/**
 * The shortest window usage is measured over. Counters tick at USER_HZ (100 Hz), so a window of a few ms holds a
 * tick or two per CPU and gives 0 or 100; 100 ms holds 10.
 */
export const MIN_WINDOW_MS = 100;

interface TimedSnapshot {
  readonly snapshot: StatSnapshot;
  readonly takenAt: number;
}

/** Holds the previous /proc/stat snapshot and what was discovered at start; one instance per loaded plugin. */
export class CpuCollector {
  private readonly stat: KernelFile;
  private readonly cpuinfoPath: string;
  private frequency = new FrequencyReader({ kind: "none" });
  private physicalCores: number | null = null;
  private previous: TimedSnapshot | null = null;
  private started = false;

  constructor(
    private readonly procfs: string,
    private readonly sysfs: string,
    private readonly options: CpuOptions,
    private readonly logger: Logger,
    private readonly minWindowMs = MIN_WINDOW_MS,
  ) {
    this.stat = new KernelFile(join(procfs, "stat"));
    this.cpuinfoPath = join(procfs, "cpuinfo");
  }

  /** Discovers what does not change (frequency source, physical cores) and takes the usage baseline for the first tick. */
  async start(): Promise<void> {
    const source = discoverFrequencySource(this.procfs, this.sysfs);
    this.frequency = new FrequencyReader(source);
    this.physicalCores = physicalCoresFromSysfs(this.sysfs) ?? physicalCoresFromCpuinfo(parseCpuinfo(readText(this.cpuinfoPath) ?? ""));
    this.previous = this.snapshot();
    this.started = true;
    if (!this.previous) this.logger.warn(`cannot read CPU times from ${this.stat.path}: usage and count_logical will be null`);
    this.logger.debug({ frequencySource: source.kind, countPhysical: this.physicalCores }, "cpu collector started");
  }

  async read(): Promise<CpuFragment> {
    if (!this.started) await this.start();
    await this.waitForWindow();
    const previous = this.previous?.snapshot;
    const current = this.snapshot();
    if (current) this.previous = current;
    const now = current?.snapshot;
    return {
      usage_percent: previous && now ? usagePercent(previous.total, now.total) : null,
      usage_per_core: this.options.perCore && previous && now ? perCoreUsage(previous.perCpu, now.perCpu) : [],
      frequency: this.frequency.read(),
      count_logical: now?.perCpu.length || null,
      count_physical: this.physicalCores,
    };
  }

  /** Closes the files kept open between ticks. */
  stop(): void {
    this.stat.close();
    this.frequency.close();
  }

  private snapshot(): TimedSnapshot | null {
    const text = readLeadingLines(this.stat, "cpu");
    const snapshot = text === null ? null : parseStat(text);
    return snapshot && { snapshot, takenAt: performance.now() };
  }

  /** A tick that comes soon after the previous snapshot (the first tick right after start) waits out the rest of the window. */
  private async waitForWindow(): Promise<void> {
    if (!this.previous) return;
    const remaining = this.minWindowMs - (performance.now() - this.previous.takenAt);
    if (remaining > 0) await sleep(remaining);
  }
}
