import type { Logger } from "@resourcemonitor/runtime";
import type { Gpu, GpuBackend } from "./gpu.js";
import { NvmlBackend } from "./nvml/backend.js";
import type { ClosedKind, ReaderOptions } from "./nvml/reader.js";
import { findExecutable } from "./path.js";
import { SmiBackend, type SmiOptions } from "./smi/backend.js";

/**
 * `backend: auto`: NVML; nvidia-smi instead only when the NVML library itself cannot be used (not found at
 * libraryPath, missing symbols, or the FFI cannot load) while an nvidia-smi executable exists. A driver that is
 * not loaded fails nvidia-smi just the same, so then NVML stays and retries.
 */
export class AutoBackend implements GpuBackend {
  private current: GpuBackend;
  private decided = false;

  constructor(
    nvml: ReaderOptions,
    private readonly smi: SmiOptions,
    private readonly logger: Logger,
  ) {
    this.current = new NvmlBackend(nvml, logger, (kind) => this.onNvmlState(kind));
  }

  start(): void {
    this.current.start();
  }

  read(): Promise<Gpu[]> {
    return this.current.read();
  }

  stop(): Promise<void> {
    return this.current.stop();
  }

  private onNvmlState(kind: ClosedKind | null): void {
    if (this.decided) return;
    this.decided = true;
    if (kind !== "library" || !findExecutable(this.smi.path)) return;
    this.logger.info(`the NVML library cannot be used; reading GPUs through ${this.smi.path} instead`);
    const nvml = this.current;
    this.current = new SmiBackend(this.smi, this.logger);
    this.current.start();
    void nvml.stop();
  }
}
