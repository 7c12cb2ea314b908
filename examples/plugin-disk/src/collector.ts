import { readFile, statfs } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { PluginOptionsError, type Logger } from "@resourcemonitor/runtime";
import { deviceIo, parseDiskstats, type DeviceIo, type DiskCounters } from "./diskstats.js";
import { parseMountinfo, parseProcMounts, storageMounts, type Mount, type MountFilter } from "./mounts.js";
import { UNKNOWN_USAGE, usageFromStatfs, type Usage } from "./usage.js";

export interface DiskOptions extends MountFilter {
  /** Where the host's root file system is visible (`/`, or `/host` in a container). */
  rootfs: string;
  /** Devices left out of `io`, a regular expression on the /proc/diskstats name. */
  excludeDevices: string;
}

export interface MountUsage extends Mount, Usage {}

export interface DiskFragment {
  mounts: MountUsage[];
  io: DeviceIo[];
}

/** Rates over a few milliseconds (`resourcemonitor once`) are noise; the first window is at least this long. */
export const MIN_WINDOW_MS = 100;

/** statfs answers in microseconds; one slower than this (a dead NFS server) is reported as null, the rest still ship. */
export const STATFS_TIMEOUT_MS = 250;

interface Reading {
  counters: Map<string, DiskCounters>;
  at: number;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

/** Reads mounts and diskstats each tick; keeps the previous diskstats reading for the rates. */
export class DiskCollector {
  private previous: Reading = { counters: new Map(), at: 0 };
  private readonly excludeDevices: RegExp;
  /** Mount points whose statfs has not answered yet (a dead NFS server): not asked again until it does. */
  private readonly pending = new Set<string>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly procfs: string,
    private readonly options: DiskOptions,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    try {
      this.excludeDevices = new RegExp(options.excludeDevices);
    } catch (error) {
      throw new PluginOptionsError("disk", [`$.excludeDevices: not a regular expression: ${(error as Error).message}`]);
    }
  }

  async start(): Promise<void> {
    this.previous = await this.readDiskstats();
  }

  async read(): Promise<DiskFragment> {
    const [mounts, io] = await Promise.all([this.readMounts(), this.readIo()]);
    return { mounts, io };
  }

  private async readIo(): Promise<DeviceIo[]> {
    const waited = this.now() - this.previous.at;
    if (this.previous.counters.size > 0 && waited < MIN_WINDOW_MS) await sleep(MIN_WINDOW_MS - waited);
    const current = await this.readDiskstats();
    const seconds = (current.at - this.previous.at) / 1000;
    const io = deviceIo(current.counters, this.previous.counters, seconds, (device) => !this.excludeDevices.test(device));
    this.previous = current;
    return io;
  }

  private async readDiskstats(): Promise<Reading> {
    const path = join(this.procfs, "diskstats");
    const text = await readText(path);
    if (text === undefined) this.warnOnce(`cannot read ${path}; io is [] until it can be read`);
    return { counters: parseDiskstats(text ?? ""), at: this.now() };
  }

  private async readMounts(): Promise<MountUsage[]> {
    const mountinfo = await readText(join(this.procfs, "self", "mountinfo"));
    const procMounts = mountinfo === undefined ? await readText(join(this.procfs, "mounts")) : undefined;
    if (mountinfo === undefined && procMounts === undefined) {
      this.warnOnce(`cannot read ${join(this.procfs, "self", "mountinfo")} or ${join(this.procfs, "mounts")}; mounts is []`);
      return [];
    }
    const mounts = storageMounts(mountinfo === undefined ? parseProcMounts(procMounts ?? "") : parseMountinfo(mountinfo), this.options);
    return Promise.all(mounts.map(async (mount) => ({ ...mount, ...(await this.usage(mount.mountpoint)) })));
  }

  private async usage(mountpoint: string): Promise<Usage> {
    if (this.pending.has(mountpoint)) return UNKNOWN_USAGE;
    this.pending.add(mountpoint);
    const path = join(this.options.rootfs, mountpoint);
    const answer = statfs(path).finally(() => this.pending.delete(mountpoint));
    answer.catch(() => undefined); // a late failure after the timeout is not an unhandled rejection
    try {
      const stats = await Promise.race([answer, sleep(STATFS_TIMEOUT_MS, undefined, { ref: false })]);
      if (stats === undefined) throw new Error(`no answer within ${STATFS_TIMEOUT_MS} ms`);
      return usageFromStatfs(stats);
    } catch (error) {
      this.logger.debug({ path, error: (error as Error).message }, `statfs ${path} failed; its usage is null`);
      return UNKNOWN_USAGE;
    }
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.logger.warn(message);
  }
}
