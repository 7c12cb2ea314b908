import { definePlugin, RUNTIME_API_VERSION, type JsonSchema } from "@resourcemonitor/runtime";
import { DiskCollector, type DiskOptions } from "./collector.js";

export { DiskCollector, MIN_WINDOW_MS, STATFS_TIMEOUT_MS } from "./collector.js";
export type { DiskFragment, DiskOptions, MountUsage } from "./collector.js";
export { parseMountinfo, parseProcMounts, storageMounts, unescapeMountField, PSEUDO_FS_TYPES } from "./mounts.js";
export type { Mount, MountFilter } from "./mounts.js";
export { parseDiskstats, deviceIo, SECTOR_BYTES } from "./diskstats.js";
export type { DiskCounters, DeviceIo } from "./diskstats.js";
export { usageFromStatfs } from "./usage.js";

const PLUGIN_NAME = "disk";

/** Whole disks only: RAM disks, loop and floppy devices and partitions (their disk already counts them) are left out. */
const DEFAULT_EXCLUDE_DEVICES = String.raw`^(ram|loop|fd|zram)\d+$|^((h|s|v|xv)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$`;

const STRING_LIST = { type: "array", items: { type: "string", minLength: 1 } };

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    rootfs: {
      type: "string",
      minLength: 1,
      default: "/",
      description: "Where the host's root file system is visible; mount points are looked up below it. Default /; in a container that mounts the host's / at /host, /host.",
    },
    includeFsTypes: {
      ...STRING_LIST,
      default: [],
      description: "File system types to report even though they are left out by default (e.g. tmpfs).",
    },
    excludeFsTypes: {
      ...STRING_LIST,
      default: [],
      description: "File system types to leave out besides the pseudo ones (e.g. nfs4, fuse.sshfs).",
    },
    excludeMountPoints: {
      ...STRING_LIST,
      default: ["/proc", "/sys", "/dev", "/run/credentials", "/var/lib/docker/overlay2", "/var/lib/containers/storage/overlay", "/var/lib/kubelet/pods"],
      description: "Mount points left out, each with everything mounted below it.",
    },
    excludeDevices: {
      type: "string",
      default: DEFAULT_EXCLUDE_DEVICES,
      description: "Regular expression on the /proc/diskstats device name; matching devices are left out of io. Default: RAM, loop and floppy devices and partitions.",
    },
  },
};

const BYTES = { type: ["integer", "null"], minimum: 0 };
const RATE = { type: ["number", "null"], minimum: 0 };
const COUNTER = { type: "integer", minimum: 0 };

const FRAGMENT_SCHEMA: JsonSchema = {
  type: "object",
  required: ["disk"],
  properties: {
    disk: {
      type: "object",
      required: ["mounts", "io"],
      additionalProperties: false,
      description: "Storage: space per mounted file system and I/O per block device.",
      properties: {
        mounts: {
          type: "array",
          description: "One entry per storage mount, in mount order.",
          items: {
            type: "object",
            required: ["device", "mountpoint", "fstype", "total", "used", "free", "percent"],
            additionalProperties: false,
            properties: {
              device: { type: "string", description: "What is mounted, e.g. /dev/nvme0n1p2 or server:/export." },
              mountpoint: { type: "string", description: "Where it is mounted." },
              fstype: { type: "string", description: "File system type, e.g. ext4." },
              total: { ...BYTES, description: "Size, bytes; null when statfs failed." },
              used: { ...BYTES, description: "Used, bytes." },
              free: { ...BYTES, description: "Free for unprivileged users, bytes (excludes reserved blocks)." },
              percent: { type: ["number", "null"], minimum: 0, maximum: 100, description: "used / (used + free), percent, 1 decimal, as df shows it." },
            },
          },
        },
        io: {
          type: "array",
          description: "One entry per whole block device, in /proc/diskstats order.",
          items: {
            type: "object",
            required: ["device", "reads", "writes", "read_bytes", "write_bytes", "reads_per_second", "writes_per_second", "read_bytes_per_second", "write_bytes_per_second", "busy_percent"],
            additionalProperties: false,
            properties: {
              device: { type: "string", description: "Kernel device name, e.g. nvme0n1." },
              reads: { ...COUNTER, description: "Reads completed since boot." },
              writes: { ...COUNTER, description: "Writes completed since boot." },
              read_bytes: { ...COUNTER, description: "Bytes read since boot." },
              write_bytes: { ...COUNTER, description: "Bytes written since boot." },
              reads_per_second: { ...RATE, description: "Reads completed per second over the last tick; null on the first reading or after a counter reset." },
              writes_per_second: { ...RATE, description: "Writes completed per second over the last tick." },
              read_bytes_per_second: { ...RATE, description: "Bytes read per second over the last tick." },
              write_bytes_per_second: { ...RATE, description: "Bytes written per second over the last tick." },
              busy_percent: { type: ["number", "null"], minimum: 0, maximum: 100, description: "Share of the last tick the device had I/O in flight, percent (iostat's %util)." },
            },
          },
        },
      },
    },
  },
};

export default definePlugin<DiskOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "collector",
  version: "0.1.0",
  description: "Disk space per mounted file system (statfs) and I/O per block device (/proc/diskstats), under disk.",
  optionsSchema: OPTIONS_SCHEMA,
  fragmentSchema: FRAGMENT_SCHEMA,
  apply({ hooks, options, settings, logger }) {
    const collector = new DiskCollector(settings.procfs, options, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => collector.start());
    hooks.collect.tapPromise(PLUGIN_NAME, async (sample) => sample.merge({ disk: await collector.read() }));
  },
});
