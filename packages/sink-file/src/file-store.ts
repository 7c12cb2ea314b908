import { createHash, hash } from "node:crypto";
import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  compareKeys,
  fitsUtf8Bytes,
  PreconditionFailedError,
  type ListOptions,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
  type UpdateResult,
} from "@resourcemonitor/layout";

export interface FileStoreOptions {
  /** A lock directory older than this was left by a crashed writer and is removed (default 10 s). */
  lockStaleMs?: number;
  /** How long a conditional write waits for a key's lock before failing (default: stale time + 2 s). */
  lockTimeoutMs?: number;
}

const MAX_NAME_BYTES = 255;
const MAX_REMEMBERED_PATHS = 64;
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
    if (!fitsUtf8Bytes(segment, MAX_NAME_BYTES)) return `has a segment longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** `.<name>.<suffix>`: hidden, in the key's own directory (so rename and link stay on one file system). */
function hiddenSibling(file: string, suffix: string): string {
  const slash = file.lastIndexOf("/"); // files are absolute paths built by pathOf: there is always one
  const name = file.slice(slash + 1);
  const hidden = `.${name}.${suffix}`;
  const fits = fitsUtf8Bytes(hidden, MAX_NAME_BYTES);
  return `${file.slice(0, slash + 1)}${fits ? hidden : `.${createHash("sha256").update(name).digest("hex").slice(0, 32)}.${suffix}`}`;
}

/**
 * A digest of the content, as an S3 ETag is: it changes whenever the body does. Inode numbers and mtimes
 * cannot serve (inodes are reused, file-system clocks are coarse), and a digest costs no system call.
 */
function versionOf(body: string): string {
  return hash("sha1", body, "base64url");
}

/**
 * The object with its version digested only when asked for: the layout asks for the version of list.json (its
 * compare-and-swap), not of the history it writes or the documents the dashboard reads.
 */
function stored(body: string): StoredObject {
  return {
    body,
    get version() {
      return versionOf(body);
    },
  };
}

/**
 * What a write returns: the version, digested only when asked for. A class, where `stored` is an object literal
 * with a getter, which V8 builds at run time each time: a tick writes two files and reads none.
 */
class Written {
  constructor(private readonly body: string) {}

  get version(): string {
    return versionOf(this.body);
  }
}

/**
 * The text of an existing file, or `undefined` when there is none (or it is a folder). `readFileSync` with
 * an encoding opens, reads and closes in one call into Node's C++ side, where three `fs` calls in JavaScript
 * cost several times the system calls themselves in a process that runs once a second.
 */
function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR", "EISDIR")) return undefined;
    throw error;
  }
}

/**
 * `writeFileSync` options for a file that must not exist yet (opened with O_CREAT | O_EXCL). The encoding is
 * spelled out: only then does Node take its one-call C++ path (open, write and close), where options without
 * one go through openSync, writeSync and closeSync in JavaScript (getOptions does not fill in defaults).
 */
const CREATE_NEW = { flag: "wx", encoding: "utf8" } as const;

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the write failed before creating it
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * An ObjectStore on a directory. Every write lands in a hidden temporary file first and appears under
 * its key in one step (rename, or link for create-only), so readers never see a partial file.
 * Create-only writes are atomic through `link()`, which fails if the name exists. Compare-and-swap
 * writes hold a short per-key lock (a hidden `.<name>.lock`, see `acquire`) around compare-then-rename;
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
  /** Numbers this process's temporary files: unique with the pid, without asking for random bytes. */
  private tempCounter = 0;
  /** The file last created through `create`, so that a put of the same body can share its inode (see `replace`). */
  private lastCreated: { file: string; body: string } | undefined;
  /** Cleared when the file system refuses hard links (some FUSE and network file systems). */
  private canLink = true;
  private readonly rootWithSlash: string;
  private readonly paths = new Map<string, string>();

  constructor(readonly root: string, options: FileStoreOptions) {
    this.description = root;
    this.rootWithSlash = root.endsWith("/") ? root : `${root}/`;
    this.lockStaleMs = options.lockStaleMs ?? 10_000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? this.lockStaleMs + 2_000;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const body = readIfPresent(this.pathOf(key));
    return body === undefined ? undefined : stored(body);
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    const file = this.pathOf(key);
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) throw new TypeError("put: give ifMatch or ifNoneMatch, not both");
    if (options.ifNoneMatch === "*") return this.create(key, file, body);
    if (options.ifMatch !== undefined) return this.replaceIfMatch(key, file, body, options.ifMatch);
    return this.replace(file, body);
  }

  /** Read, change and write under the key's lock: the lock `put` with `ifMatch` takes, so the two exclude each other. */
  async update(key: string, change: (current: string | undefined) => string | undefined): Promise<UpdateResult> {
    const file = this.pathOf(key);
    return this.withLock(file, () => {
      const current = readIfPresent(file);
      const next = change(current);
      if (next === undefined) return { current, written: false };
      this.moveIntoPlace(this.writeTemp(file, next), file);
      return { current, written: true };
    });
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    const folderKey = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    if (folderKey !== "") this.pathOf(folderKey.slice(0, -1));
    yield* this.walk(folderKey, prefix, options.startAfter ?? "");
  }

  /**
   * The file of a key. A checked key has no empty, `.` or `..` segment, so appending it to the root needs no
   * normalizing; the keys written every tick (`<host>.json`, list.json) are remembered.
   */
  private pathOf(key: string): string {
    let file = this.paths.get(key);
    if (file !== undefined) return file;
    const problem = fileKeyProblem(key);
    if (problem) throw new Error(`key ${JSON.stringify(key)} cannot be stored in ${this.root}: it ${problem}`);
    file = `${this.rootWithSlash}${key}`;
    if (this.paths.size >= MAX_REMEMBERED_PATHS) this.paths.clear(); // history keys are new each tick
    this.paths.set(key, file);
    return file;
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

  /**
   * A body equal to the file just created (the layout writes each sample to history, then the same text to
   * `<host>.json`) becomes a second name of that file: no new inode, no data written, and the inode that
   * the rename replaces stays alive as a history file instead of being freed. The store never modifies a
   * file in place, so two names sharing one inode can never diverge.
   */
  private replace(file: string, body: string): { version: string } {
    const created = this.lastCreated;
    if (created?.body === body && this.canLink && this.replaceWithLink(created.file, file)) return new Written(body);
    this.moveIntoPlace(this.writeTemp(file, body), file);
    return new Written(body);
  }

  private replaceWithLink(source: string, file: string): boolean {
    const temp = hiddenSibling(file, `${PID}.${(this.tempCounter += 1)}.tmp`);
    try {
      linkSync(source, temp);
    } catch (error) {
      if (hasCode(error, "EPERM", "ENOTSUP", "EOPNOTSUPP")) this.canLink = false;
      return false;
    }
    this.moveIntoPlace(temp, file);
    return true;
  }

  private create(key: string, file: string, body: string): { version: string } {
    const temp = this.writeTemp(file, body);
    try {
      linkSync(temp, file);
    } catch (error) {
      if (hasCode(error, "EEXIST")) throw new PreconditionFailedError(key, "ifNoneMatch");
      throw error;
    } finally {
      removeQuietly(temp);
    }
    this.lastCreated = { file, body };
    return new Written(body);
  }

  private async replaceIfMatch(key: string, file: string, body: string, expected: string): Promise<{ version: string }> {
    return this.withLock(file, () => {
      const current = readIfPresent(file);
      if (current === undefined || versionOf(current) !== expected) throw new PreconditionFailedError(key, "ifMatch");
      this.moveIntoPlace(this.writeTemp(file, body), file);
      return new Written(body);
    });
  }

  private moveIntoPlace(temp: string, file: string): void {
    try {
      renameSync(temp, file);
    } catch (error) {
      removeQuietly(temp);
      throw error;
    }
  }

  /**
   * Writes `body` to a new hidden file next to `file` and returns its path; a name left behind by a crashed
   * process with our pid is skipped. No fsync: latest and list.json are rewritten next tick, and durability
   * of undelivered documents is the spool's job.
   */
  private writeTemp(file: string, body: string): string {
    for (let attempt = 0; ; attempt += 1) {
      const path = hiddenSibling(file, `${PID}.${(this.tempCounter += 1)}.tmp`);
      try {
        writeNew(path, body);
        return path;
      } catch (error) {
        if (!hasCode(error, "EEXIST") || attempt >= 100) throw error;
      }
    }
  }

  private async withLock<T>(file: string, work: () => T): Promise<T> {
    const lock = hiddenSibling(file, "lock");
    await this.acquire(lock, hiddenSibling(file, "lockbase"));
    try {
      return work();
    } finally {
      releaseLock(lock);
    }
  }

  /**
   * Takes the lock by giving a permanent hidden file (`base`) a second name (`lock`): link() fails if the name
   * is taken, and unlike mkdir or a create-only file it allocates no inode and no block for the file system to
   * free again on release.
   */
  private async acquire(lock: string, base: string): Promise<void> {
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkSync(base, lock);
        return;
      } catch (error) {
        if (hasCode(error, "ENOENT")) createEmpty(base);
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
   * Removes a lock left by a writer that died holding it (link() set its ctime when it was taken). Two
   * waiters may judge the same lock stale at once; the second's removal could then hit the first's new
   * lock, a window of microseconds that only opens after a crash.
   */
  private removeIfStale(lock: string): boolean {
    try {
      const { ctimeMs } = statSync(lock);
      if (Date.now() - ctimeMs <= this.lockStaleMs) return false;
      removeLock(lock);
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT")) return true;
      throw error;
    }
  }
}

/**
 * Creates `path` holding `body` (open, write and close in one call into Node's C++ side), and its folders when
 * they are missing. EEXIST: the name is taken and was not touched; any other failure (a full disk) removes
 * what was created.
 */
function writeNew(path: string, body: string): void {
  try {
    writeFileSync(path, body, CREATE_NEW);
  } catch (error) {
    if (!hasCode(error, "ENOENT")) throw discarding(path, error);
    mkdirSync(dirname(path), { recursive: true });
    try {
      writeFileSync(path, body, CREATE_NEW);
    } catch (retryError) {
      throw discarding(path, retryError);
    }
  }
}

/** `error`, after removing the file a failed create left unless the name was someone else's (EEXIST). */
function discarding(path: string, error: unknown): unknown {
  if (!hasCode(error, "EEXIST")) removeQuietly(path);
  return error;
}

/** Creates an empty file (and its folders) unless one exists. */
function createEmpty(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, "a"));
}

function releaseLock(lock: string): void {
  try {
    removeLock(lock);
  } catch {
    // the write itself succeeded; a lock we cannot remove is reported as stale to the next writer
  }
}

/** Removes a lock; a directory is a lock taken by an earlier version of this store (mkdir locks). */
function removeLock(lock: string): void {
  try {
    unlinkSync(lock);
  } catch (error) {
    if (hasCode(error, "EISDIR")) rmdirSync(lock);
    else if (!hasCode(error, "ENOENT")) throw error; // ENOENT: another writer removed it as stale after we stalled
  }
}

/** An ObjectStore on the directory `dir` (resolved to an absolute path; created on first write). */
export function createFileStore(dir: string, options: FileStoreOptions = {}): ObjectStore {
  return new FileStore(resolve(dir), options);
}
