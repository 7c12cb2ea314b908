import { closeSync, constants, fstatSync, ftruncateSync, linkSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Rewritten in place: O_TRUNC would free the file's block (a discard on SSD mounts) and allocate it again. */
const REWRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT;

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

function openCreatingFolder(path: string, flags: string | number): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    if (!hasCode(error, "ENOENT")) throw error;
  }
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, flags);
}

/**
 * Replaces one file again and again, atomically (a reader sees the old text or the new one), without
 * allocating an inode per write. The file has two permanent hidden backing files, `.<name>.a` and
 * `.<name>.b`: a write rewrites in place the one that is not published, gives it a temporary second name
 * and renames that over the file; the inode the rename replaces stays alive as the other backing file.
 *
 * Why: on ext4, renaming a freshly written file over another forces the new file's delayed allocation to
 * disk in the writer's own time, and frees the replaced inode (with a discard on SSD mounts): about half
 * a millisecond of kernel time per replacement in a 2-vCPU VM. Rewriting an allocated block needs neither.
 *
 * For a file with one writer that is rewritten every few seconds (the agent's status file): a reader that
 * opened it two writes ago and is still reading could see the newer text, so it is not for files many
 * writers replace many times a second. Without hard links, a write falls back to a new file renamed into place.
 */
export class Publisher {
  private tempCounter = 0;
  private lastBacking: "a" | "b" = "b";
  private canLink = true;

  constructor(private readonly file: string) {}

  publish(body: string): void {
    const bytes = Buffer.from(body, "utf8");
    if (this.canLink && this.publishFromBacking(bytes)) return;
    const temp = this.tempName();
    writeFileSync(temp, bytes);
    this.moveIntoPlace(temp);
  }

  private sibling(suffix: string): string {
    return join(dirname(this.file), `.${basename(this.file)}.${suffix}`);
  }

  private tempName(): string {
    return this.sibling(`${process.pid}.${(this.tempCounter += 1)}.tmp`);
  }

  private moveIntoPlace(temp: string): void {
    try {
      renameSync(temp, this.file);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // the rename's error is the one to report
      }
      throw error;
    }
  }

  /** False when the file system has no hard links. */
  private publishFromBacking(bytes: Buffer): boolean {
    const backing = this.rewriteSpare(bytes);
    const temp = this.tempName();
    try {
      linkSync(backing, temp);
    } catch (error) {
      if (!hasCode(error, "EPERM", "ENOTSUP", "EOPNOTSUPP")) throw error;
      this.canLink = false;
      return false;
    }
    this.moveIntoPlace(temp);
    return true;
  }

  /** Writes `bytes` into the backing file that is not the published one, and returns its path. */
  private rewriteSpare(bytes: Buffer): string {
    const published = statSync(this.file, { throwIfNoEntry: false })?.ino;
    const first = this.lastBacking === "a" ? "b" : "a";
    for (const suffix of [first, first === "a" ? "b" : "a"] as const) {
      const path = this.sibling(suffix);
      const descriptor = openCreatingFolder(path, REWRITE_FLAGS);
      try {
        if (published !== undefined && fstatSync(descriptor).ino === published) continue;
        for (let offset = 0; offset < bytes.length; ) offset += writeSync(descriptor, bytes, offset, bytes.length - offset, offset);
        ftruncateSync(descriptor, bytes.length);
        this.lastBacking = suffix;
        return path;
      } finally {
        closeSync(descriptor);
      }
    }
    throw new Error(`${this.sibling("a")} and ${this.sibling("b")} are both ${this.file}; remove them`);
  }
}
