import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  fstatSync,
  futimesSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type BigIntStats,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  compareKeys,
  PreconditionFailedError,
  type ListOptions,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from "@resourcemonitor/layout";

export interface FileStoreOptions {
  /** A lock directory older than this was left by a crashed writer and is removed (default 10 s). */
  lockStaleMs?: number;
  /** How long a conditional write waits for a key's lock before failing (default: stale time + 2 s). */
  lockTimeoutMs?: number;
}

const MAX_NAME_BYTES = 255;
const PID = process.pid; // a getpid() per read of process.pid otherwise

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = errorCode(error);
  return code !== undefined && codes.includes(code);
}

/** Why `key` cannot name a file under the store's directory, or `undefined`. */
export function fileKeyProblem(key: string): string | undefined {
  if (key.includes("\0")) return "contains a NUL character";
  if (key.includes("\\")) return "contains '\\'";
  for (const segment of key.split("/")) {
    if (segment === "") return "has an empty segment (leading, trailing or double '/')";
    if (segment === "." || segment === "..") return "has a '.' or '..' segment";
    if (segment.startsWith(".")) return `has a segment starting with '.' ("${segment}"), reserved for temporary and lock files`;
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) return `has a segment longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** `.<name>.<suffix>`: hidden, in the key's own directory (so rename and link stay on one file system). */
function hiddenSibling(file: string, suffix: string): string {
  const name = basename(file);
  const hidden = `.${name}.${suffix}`;
  const short = Buffer.byteLength(hidden) <= MAX_NAME_BYTES ? hidden : `.${createHash("sha256").update(name).digest("hex").slice(0, 32)}.${suffix}`;
  return join(dirname(file), short);
}

/** Changes with every write: a write renames or links a new inode into place and sets its mtime. */
function versionOf(stats: BigIntStats): string {
  return `${stats.ino}-${stats.mtimeNs}-${stats.size}`;
}

/** The open descriptor of an existing file, or `undefined` when there is none. */
function openIfPresent(file: string): number | undefined {
  try {
    return openSync(file, "r");
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR", "EISDIR")) return undefined;
    throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the write failed before creating it
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

interface TempFile {
  path: string;
  version: string;
}

/**
 * An ObjectStore on a directory. Every write lands in a hidden temporary file first and appears under
 * its key in one step (rename, or link for create-only), so readers never see a partial file.
 * Create-only writes are atomic through `link()`, which fails if the name exists. Compare-and-swap
 * writes hold a short per-key lock (`mkdir` of a hidden `.<name>.lock`) around compare-then-rename;
 * an unconditional write to a key that also gets conditional writes may be overwritten by one of them.
 *
 * The system calls are synchronous: each costs microseconds on a local disk, where a round trip through
 * libuv's thread pool costs several times that in CPU, and a tick makes about thirty of them. Only
 * waiting for another writer's lock yields to the event loop.
 */
class FileStore implements ObjectStore {
  readonly description: string;
  private readonly lockStaleMs: number;
  private readonly lockTimeoutMs: number;
  /** The last mtime this process gave a file: every new one is later, so versions never repeat. */
  private lastMtimeNs = 0n;

  constructor(readonly root: string, options: FileStoreOptions) {
    this.description = root;
    this.lockStaleMs = options.lockStaleMs ?? 10_000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? this.lockStaleMs + 2_000;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const descriptor = openIfPresent(this.pathOf(key));
    if (descriptor === undefined) return undefined;
    try {
      // Version and body from one open file: a rename in between cannot pair them wrongly.
      const stats = fstatSync(descriptor, { bigint: true });
      if (!stats.isFile()) return undefined;
      return { body: readFileSync(descriptor, "utf8"), version: versionOf(stats) };
    } finally {
      closeSync(descriptor);
    }
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    const file = this.pathOf(key);
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) throw new TypeError("put: give ifMatch or ifNoneMatch, not both");
    if (options.ifNoneMatch === "*") return this.create(key, file, body);
    if (options.ifMatch !== undefined) return this.replaceIfMatch(key, file, body, options.ifMatch);
    return this.replace(file, body);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    const folderKey = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    if (folderKey !== "") this.pathOf(folderKey.slice(0, -1));
    yield* this.walk(folderKey, prefix, options.startAfter ?? "");
  }

  private pathOf(key: string): string {
    const problem = fileKeyProblem(key);
    if (problem) throw new Error(`key ${JSON.stringify(key)} cannot be stored in ${this.root}: it ${problem}`);
    return join(this.root, key);
  }

  /** Every visible key under `folderKey` (`""` or ending in `/`) in byte order, depth first. */
  private async *walk(folderKey: string, prefix: string, startAfter: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = readdirSync(join(this.root, folderKey), { withFileTypes: true });
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return;
      throw error;
    }
    // A folder sorts as `name/`: then depth-first order is byte order of the whole keys.
    const visible = entries
      .filter((entry) => !entry.name.startsWith(".") && (entry.isFile() || entry.isDirectory()))
      .map((entry) => ({ key: `${folderKey}${entry.name}${entry.isDirectory() ? "/" : ""}`, folder: entry.isDirectory() }))
      .filter(({ key }) => key.startsWith(prefix))
      .sort((a, b) => compareKeys(a.key, b.key));
    for (const { key, folder } of visible) {
      if (!folder) {
        if (compareKeys(key, startAfter) > 0) yield key;
      } else if (startAfter.startsWith(key) || compareKeys(key, startAfter) > 0) {
        yield* this.walk(key, prefix, startAfter);
      }
    }
  }

  private replace(file: string, body: string): { version: string } {
    const temp = this.writeTemp(file, body);
    this.moveIntoPlace(temp, file);
    return { version: temp.version };
  }

  private create(key: string, file: string, body: string): { version: string } {
    const temp = this.writeTemp(file, body);
    try {
      linkSync(temp.path, file);
    } catch (error) {
      if (hasCode(error, "EEXIST")) throw new PreconditionFailedError(key, "ifNoneMatch");
      throw error;
    } finally {
      removeQuietly(temp.path);
    }
    return { version: temp.version };
  }

  private async replaceIfMatch(key: string, file: string, body: string, expected: string): Promise<{ version: string }> {
    return this.withLock(file, () => {
      const current = this.statOpened(file);
      if (!current?.isFile() || versionOf(current) !== expected) throw new PreconditionFailedError(key, "ifMatch");
      const temp = this.writeTemp(file, body, current.mtimeNs);
      this.moveIntoPlace(temp, file);
      return { version: temp.version };
    });
  }

  /** Stats through an open file, not the path: on NFS, opening revalidates what a path stat may serve from cache. */
  private statOpened(file: string): BigIntStats | undefined {
    const descriptor = openIfPresent(file);
    if (descriptor === undefined) return undefined;
    try {
      return fstatSync(descriptor, { bigint: true });
    } finally {
      closeSync(descriptor);
    }
  }

  private moveIntoPlace(temp: TempFile, file: string): void {
    try {
      renameSync(temp.path, file);
    } catch (error) {
      removeQuietly(temp.path);
      throw error;
    }
  }

  /**
   * Writes `body` to a new hidden file next to `file` and returns its version. No fsync: latest and
   * list.json are rewritten next tick, and durability of undelivered documents is the spool's job.
   */
  private writeTemp(file: string, body: string, notBeforeNs = 0n): TempFile {
    const path = hiddenSibling(file, `${PID}.${randomBytes(4).toString("hex")}.tmp`);
    const descriptor = this.openNew(path);
    try {
      writeFileSync(descriptor, body, "utf8");
      // Inode numbers are reused and file-system clocks are coarse: without a later mtime, a rewrite of
      // the same size could bring back an old version and let a stale compare-and-swap through.
      const mtime = this.nextMtime(notBeforeNs);
      futimesSync(descriptor, mtime, mtime);
      const stats = fstatSync(descriptor, { bigint: true });
      this.lastMtimeNs = stats.mtimeNs;
      return { path, version: versionOf(stats) };
    } catch (error) {
      removeQuietly(path);
      throw error;
    } finally {
      closeSync(descriptor);
    }
  }

  /**
   * Seconds since the epoch: now, but at least 10 µs past this process's last write and `notBeforeNs`.
   * Seconds as a double reach the file system up to about 1 µs short, so "later" needs that margin.
   */
  private nextMtime(notBeforeNs: bigint): number {
    const marginNs = 10_000n;
    let next = BigInt(Date.now()) * 1_000_000n;
    for (const floor of [this.lastMtimeNs + marginNs, notBeforeNs + marginNs]) if (next < floor) next = floor;
    return Number(next) / 1e9;
  }

  /** Opens a file that must not exist yet, creating its folders when they are missing. */
  private openNew(path: string): number {
    try {
      return openSync(path, "wx");
    } catch (error) {
      if (!hasCode(error, "ENOENT")) throw error;
    }
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, "wx");
  }

  private async withLock<T>(file: string, work: () => T): Promise<T> {
    const lock = hiddenSibling(file, "lock");
    await this.acquire(lock);
    try {
      return work();
    } finally {
      try {
        rmdirSync(lock);
      } catch {
        // removed as stale by another writer after we stalled: nothing left to release
      }
    }
  }

  private async acquire(lock: string): Promise<void> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        mkdirSync(lock);
        return;
      } catch (error) {
        if (hasCode(error, "ENOENT")) mkdirSync(dirname(lock), { recursive: true });
        else if (!hasCode(error, "EEXIST")) throw error;
      }
      if (this.removeIfStale(lock)) continue;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${this.lockTimeoutMs} ms waiting for the lock ${lock}; if no writer is running, remove it`);
      }
      // Locks are held for well under a millisecond: start with short, jittered pauses.
      await sleep(Math.random() * Math.min(50, 2 ** attempt));
    }
  }

  /**
   * Removes a lock left by a writer that died holding it. Two waiters may judge the same lock stale
   * at once; the second's rmdir could then hit the first's new lock, a window of microseconds that
   * only opens after a crash.
   */
  private removeIfStale(lock: string): boolean {
    try {
      const { mtimeMs } = statSync(lock);
      if (Date.now() - mtimeMs <= this.lockStaleMs) return false;
      rmdirSync(lock);
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT")) return true;
      throw error;
    }
  }
}

/** An ObjectStore on the directory `dir` (resolved to an absolute path; created on first write). */
export function createFileStore(dir: string, options: FileStoreOptions = {}): ObjectStore {
  return new FileStore(resolve(dir), options);
}
