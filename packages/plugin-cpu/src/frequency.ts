import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { KernelFile } from "@resourcemonitor/runtime";
import { cpuinfoMhz } from "./cpuinfo.js";
import { listDirectory, readInteger, readText, resolvePath } from "./read.js";
import { cpuDirectories } from "./topology.js";

/** MHz; null where the machine does not report it. */
export interface Frequency {
  current: number | null;
  min: number | null;
  max: number | null;
}

/** A fresh object each time: the document is assembled by merging into what collectors return. */
export function noFrequency(): Frequency {
  return { current: null, min: null, max: null };
}

/** One cpufreq policy (or per-CPU cpufreq directory) and how many CPUs it speaks for. */
export interface CpufreqDomain {
  readonly directory: string;
  readonly cpus: number;
}

export type FrequencySource =
  | { readonly kind: "cpufreq"; readonly domains: readonly CpufreqDomain[] }
  | { readonly kind: "cpuinfo"; readonly path: string; readonly constant: boolean }
  | { readonly kind: "none" };

function byNumberInName(left: string, right: string): number {
  return Number(left.replace(/\D/g, "")) - Number(right.replace(/\D/g, ""));
}

/** One policy can drive several CPUs (a whole ARM cluster); `affected_cpus` lists its online ones. */
function affectedCpuCount(policy: string): number {
  const text = readText(join(policy, "affected_cpus"));
  if (text === null) return 1;
  return text.split(/\s+/).filter(Boolean).length;
}

function policyDomains(sysfs: string): CpufreqDomain[] {
  const base = join(sysfs, "devices/system/cpu/cpufreq");
  return listDirectory(base)
    .filter((name) => /^policy\d+$/.test(name))
    .sort(byNumberInName)
    .map((name) => join(base, name))
    .map((directory) => ({ directory, cpus: affectedCpuCount(directory) }));
}

/** Kernels without policy directories: `cpuN/cpufreq`, where CPUs sharing a policy are links to one directory. */
function perCpuDomains(sysfs: string): CpufreqDomain[] {
  const cpusPerDirectory = new Map<string, number>();
  for (const cpu of cpuDirectories(sysfs)) {
    const directory = resolvePath(join(cpu, "cpufreq"));
    if (directory) cpusPerDirectory.set(directory, (cpusPerDirectory.get(directory) ?? 0) + 1);
  }
  return [...cpusPerDirectory].map(([directory, cpus]) => ({ directory, cpus }));
}

function readable(domains: CpufreqDomain[]): CpufreqDomain[] {
  return domains.filter((domain) => domain.cpus > 0 && readInteger(join(domain.directory, "scaling_cur_freq")) !== null);
}

/**
 * Decided once, at start: cpufreq policies, else per-CPU cpufreq directories, else the MHz lines of
 * /proc/cpuinfo (VMs and containers have no cpufreq), else nothing (ARM, MIPS, RISC-V without cpufreq).
 */
export function discoverFrequencySource(procfs: string, sysfs: string): FrequencySource {
  const policies = readable(policyDomains(sysfs));
  if (policies.length > 0) return { kind: "cpufreq", domains: policies };
  const perCpu = readable(perCpuDomains(sysfs));
  if (perCpu.length > 0) return { kind: "cpufreq", domains: perCpu };
  const cpuinfo = join(procfs, "cpuinfo");
  const text = readText(cpuinfo) ?? "";
  if (cpuinfoMhz(text).length > 0) return { kind: "cpuinfo", path: cpuinfo, constant: constantCpuinfoMhz(text) };
  return { kind: "none" };
}

/**
 * On x86 without cpufreq, the kernel prints `cpu MHz` from APERF/MPERF samples when the CPU has them, and otherwise
 * the boot-time `cpu_khz` (arch/x86/kernel/cpu/proc.c): a VM whose flags lack `aperfmperf` shows the same MHz
 * forever, so it is read once instead of generating all of /proc/cpuinfo every tick (25 µs on a 2-vCPU VM, more
 * with more CPUs). Other architectures keep being read.
 */
export function constantCpuinfoMhz(text: string): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(text)?.[1];
  return flags !== undefined && /\bcpu mhz\b/i.test(text) && !/(?:^|\s)aperfmperf(?:\s|$)/.test(flags);
}

/** Rounded to whole kHz, the resolution of every source. */
function toMhz(khz: number): number {
  return Math.round(khz) / 1000;
}

interface DomainState {
  readonly cpus: number;
  /** Read every tick, so kept open. */
  readonly current: KernelFile;
  readonly minPath: string;
  readonly maxPath: string;
  minKhz: number | null;
  maxKhz: number | null;
}

function weightedMeanMhz(domains: readonly DomainState[], value: (domain: DomainState) => number | null): number | null {
  let cpus = 0;
  let sum = 0;
  for (const domain of domains) {
    const khz = value(domain);
    if (khz === null) return null;
    cpus += domain.cpus;
    sum += khz * domain.cpus;
  }
  return cpus > 0 ? toMhz(sum / cpus) : null;
}

/**
 * scaling_min_freq and scaling_max_freq move when a cooling device or a platform power limit caps a policy, or an
 * admin sets them, so they are re-read, but at most this often: each is one more sysfs read per policy (a laptop
 * with one policy per CPU would read three times the files every tick at 1 Hz), and a cap reported up to 10 s late
 * is still useful. At the default 60 s interval they are re-read every tick.
 */
export const LIMITS_MAX_AGE_MS = 10_000;

/** The aggregate frequency, a mean over CPUs as psutil's cpu_freq(percpu=False) gives it. Reads only the source's files. */
export class FrequencyReader {
  private readonly domains: DomainState[];
  private readonly cpuinfo: KernelFile | undefined;
  /** The reading of a constant cpuinfo source, once taken. */
  private constantReading: Frequency | undefined;
  private limitsReadAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly source: FrequencySource,
    private readonly limitsMaxAgeMs = LIMITS_MAX_AGE_MS,
  ) {
    const domains = source.kind === "cpufreq" ? source.domains : [];
    this.domains = domains.map(({ directory, cpus }) => ({
      cpus,
      current: new KernelFile(join(directory, "scaling_cur_freq")),
      minPath: join(directory, "scaling_min_freq"),
      maxPath: join(directory, "scaling_max_freq"),
      minKhz: null,
      maxKhz: null,
    }));
    this.cpuinfo = source.kind === "cpuinfo" ? new KernelFile(source.path) : undefined;
  }

  read(): Frequency {
    if (this.source.kind === "cpufreq") return this.readCpufreq();
    if (!this.cpuinfo) return noFrequency();
    if (this.source.kind !== "cpuinfo" || !this.source.constant) return this.readCpuinfo(this.cpuinfo);
    this.constantReading ??= this.readConstant(this.cpuinfo);
    return { ...this.constantReading };
  }

  close(): void {
    for (const domain of this.domains) domain.current.close();
    this.cpuinfo?.close();
  }

  private readCpufreq(): Frequency {
    const now = performance.now();
    if (now - this.limitsReadAt >= this.limitsMaxAgeMs) this.refreshLimits(now);
    const answered: DomainState[] = [];
    let cpus = 0;
    let currentSum = 0;
    for (const domain of this.domains) {
      // An inactive policy (all its CPUs offline) answers EBUSY: its CPUs drop out of the mean this tick.
      const khz = domain.current.readInteger();
      if (khz === null) continue;
      answered.push(domain);
      cpus += domain.cpus;
      currentSum += khz * domain.cpus;
    }
    if (cpus === 0) return noFrequency();
    return {
      current: toMhz(currentSum / cpus),
      min: weightedMeanMhz(answered, (domain) => domain.minKhz),
      max: weightedMeanMhz(answered, (domain) => domain.maxKhz),
    };
  }

  private refreshLimits(now: number): void {
    for (const domain of this.domains) {
      domain.minKhz = readInteger(domain.minPath);
      domain.maxKhz = readInteger(domain.maxPath);
    }
    this.limitsReadAt = now;
  }

  /** Read once, and the file closed: it will say the same thing until the machine reboots. */
  private readConstant(cpuinfo: KernelFile): Frequency {
    const reading = this.readCpuinfo(cpuinfo);
    cpuinfo.close();
    return reading;
  }

  /** psutil's fallback without cpufreq: the mean of the cpuinfo MHz lines, with no min or max (psutil says 0.0). */
  private readCpuinfo(cpuinfo: KernelFile): Frequency {
    const values = cpuinfoMhz(cpuinfo.read() ?? "");
    if (values.length === 0) return noFrequency();
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    return { current: toMhz(mean * 1000), min: null, max: null };
  }
}
