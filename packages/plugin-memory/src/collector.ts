import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@resourcemonitor/runtime";
import { estimateAvailable, parseMeminfo, swapMemory, virtualMemory, type SwapMemory, type VirtualMemory } from "./meminfo.js";

export interface MemoryFragment {
  virtual: VirtualMemory;
  swap: SwapMemory;
}

/*
 * /proc/meminfo is read synchronously: it is generated from kernel memory, and a synchronous read costs a few
 * microseconds where fs/promises costs 100+ µs of thread-pool hops (the agent's budget is 1 ms per tick).
 */
export class MemoryCollector {
  private pageSize: number | undefined;
  private warnedEstimate = false;

  constructor(
    private readonly procfs: string,
    private readonly logger: Logger,
  ) {}

  read(): MemoryFragment {
    const fields = parseMeminfo(readFileSync(join(this.procfs, "meminfo"), "utf8"));
    const reported = fields.get("MemAvailable");
    const available = reported ? reported : this.estimate(fields);
    return { virtual: virtualMemory(fields, available), swap: swapMemory(fields) };
  }

  /** Kernels before 3.14 (or a MemAvailable of 0): rebuild the estimate; zoneinfo is read only on this path. */
  private estimate(fields: Map<string, number>): number {
    if (!this.warnedEstimate) {
      this.logger.info("/proc/meminfo has no usable MemAvailable (kernel < 3.14?): estimating it from /proc/zoneinfo as the kernel does");
      this.warnedEstimate = true;
    }
    let zoneinfo: string | undefined;
    try {
      zoneinfo = readFileSync(join(this.procfs, "zoneinfo"), "utf8");
    } catch {
      zoneinfo = undefined;
    }
    return estimateAvailable(fields, zoneinfo, this.hostPageSize());
  }

  /** The running host's page size; asked once, and only on the old-kernel path. */
  private hostPageSize(): number {
    if (this.pageSize === undefined) {
      try {
        this.pageSize = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8", timeout: 2000 }).trim()) || 4096;
      } catch {
        this.pageSize = 4096;
      }
    }
    return this.pageSize;
  }
}
