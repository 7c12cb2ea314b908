/** One mounted file system as the kernel lists it. */
export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
}

/**
 * Not storage: kernel interfaces, memory-backed and container-image file systems. Their sizes say nothing about
 * disks (tmpfs is RAM, overlay repeats the disk under it, squashfs images are always full).
 */
export const PSEUDO_FS_TYPES = [
  "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs", "efivarfs",
  "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fuse.snapfuse", "fusectl", "hugetlbfs", "iso9660", "mqueue",
  "nsfs", "overlay", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",
  "tmpfs", "tracefs",
];

/** Undoes the kernel's octal escapes in mount fields: `\040` space, `\011` tab, `\012` newline, `\134` backslash. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** `/proc/self/mountinfo`: `id parent major:minor root mountpoint options [optional...] - fstype source superoptions`. */
export function parseMountinfo(text: string): Mount[] {
  return text.split("\n").flatMap((line) => {
    const fields = line.trim().split(" ");
    const separator = fields.indexOf("-", 6);
    const mountpoint = fields[4];
    const fstype = fields[separator + 1];
    const device = fields[separator + 2];
    if (separator < 0 || !mountpoint || !fstype || device === undefined) return [];
    return [{ device: unescapeMountField(device), mountpoint: unescapeMountField(mountpoint), fstype }];
  });
}

/** `/proc/mounts` (older kernels, some containers): `source mountpoint fstype options dump pass`. */
export function parseProcMounts(text: string): Mount[] {
  return text.split("\n").flatMap((line) => {
    const [device, mountpoint, fstype] = line.trim().split(/\s+/);
    if (!device || !mountpoint || !fstype) return [];
    return [{ device: unescapeMountField(device), mountpoint: unescapeMountField(mountpoint), fstype }];
  });
}

export interface MountFilter {
  includeFsTypes: string[];
  excludeFsTypes: string[];
  excludeMountPoints: string[];
}

function isAtOrBelow(path: string, prefix: string): boolean {
  const base = prefix.endsWith("/") && prefix !== "/" ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(base === "/" ? "/" : `${base}/`);
}

/**
 * The storage mounts: pseudo and excluded types and mount points left out (an included type always counts);
 * a mount point mounted over again keeps only its top mount, the one a process sees.
 */
export function storageMounts(mounts: Mount[], filter: MountFilter): Mount[] {
  const skipped = (fstype: string) =>
    !filter.includeFsTypes.includes(fstype) && (PSEUDO_FS_TYPES.includes(fstype) || filter.excludeFsTypes.includes(fstype));
  const top = new Map<string, Mount>();
  for (const mount of mounts) {
    if (skipped(mount.fstype) || filter.excludeMountPoints.some((prefix) => isAtOrBelow(mount.mountpoint, prefix))) {
      top.delete(mount.mountpoint);
      continue;
    }
    top.delete(mount.mountpoint);
    top.set(mount.mountpoint, mount);
  }
  return [...top.values()];
}
