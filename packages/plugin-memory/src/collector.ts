import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KernelFile, type Logger } from "@resourcemonitor/runtime";
import { estimateInputs, freePlusCached, kernelEstimate, parseMeminfo, swapMemory, virtualMemory, type Meminfo, type SwapMemory, type VirtualMemory } from "./meminfo.js";
import { hostPageSize } from "./pagesize.js";

export interface MemoryFragment {
  virtual: VirtualMemory;
  swap: SwapMemory;
}

/** The lines of /proc/meminfo this plugin reads: psutil's virtual and swap figures and the kernel's estimate. */
const MEMINFO_FIELDS = ["MemTotal", "MemFree", "MemAvailable", "Cached", "Active(file)", "Inactive(file)", "SReclaimable", "SwapTotal", "SwapFree"];

/*
 * Files are read synchronously: procfs is generated from kernel memory, and a synchronous read costs a few
 * microseconds where fs/promises costs 100+ µs of thread-pool hops (the agent's budget is 1 ms per tick).
 */
export class MemoryCollector {
  private readonly meminfo: KernelFile;
  private readonly zoneinfoPath: string;
  private pageSize: number | undefined;
  private announcedEstimate = false;

  constructor(
    procfs: string,
    private readonly logger: Logger,
  ) {
    this.meminfo = new KernelFile(join(procfs, "meminfo"));
    this.zoneinfoPath = join(procfs, "zoneinfo");
  }

  /** Throws when meminfo is unreadable or lacks MemTotal/MemFree: no figure can be given, and the runtime reports it. */
  read(): MemoryFragment {
    const text = this.meminfo.read();
    if (text === null) throw new Error(`cannot read ${this.meminfo.path} (${this.meminfo.problem})`);
    const fields = parseMeminfo(text, MEMINFO_FIELDS);
    const total = this.required(fields, "MemTotal");
    const free = this.required(fields, "MemFree");
    // MemAvailable reads 0 on some kernels and containers (psutil issue #1915): treated as missing.
    const available = fields.get("MemAvailable") || this.estimateAvailable(fields);
    return { virtual: virtualMemory(total, free, available), swap: swapMemory(fields) };
  }

  private required(fields: Meminfo, name: string): number {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`${this.meminfo.path} has no ${name} line`);
    return value;
  }

  /** Kernels before 3.14: the kernel's own estimate from zoneinfo watermarks, else MemFree + Cached, as psutil does. */
  /** Closes /proc/meminfo, kept open between ticks. */
  stop(): void {
    this.meminfo.close();
  }

  private estimateAvailable(fields: Meminfo): number {
    const inputs = estimateInputs(fields);
    const zoneinfo = inputs && this.readZoneinfo();
    if (inputs && zoneinfo !== undefined) {
      this.announceEstimate(`the kernel 3.14 estimate from ${this.zoneinfoPath} low watermarks`);
      this.pageSize ??= hostPageSize();
      return kernelEstimate(inputs, zoneinfo, this.pageSize);
    }
    const missing = inputs ? `${this.zoneinfoPath} is unreadable` : "Active(file), Inactive(file) or SReclaimable is missing";
    this.announceEstimate(`MemFree + Cached (${missing})`);
    return freePlusCached(fields);
  }

  private readZoneinfo(): string | undefined {
    try {
      return readFileSync(this.zoneinfoPath, "utf8");
    } catch {
      return undefined;
    }
  }

  private announceEstimate(method: string): void {
    if (this.announcedEstimate) return;
    this.announcedEstimate = true;
    this.logger.info(`${this.meminfo.path} has no usable MemAvailable (kernel < 3.14?): available is ${method}`);
  }
}
