/** What `get` returns: the object's text and an opaque version that changes on every write. */
export interface StoredObject {
  body: string;
  version: string;
}

export interface PutOptions {
  /** Write only if the object's current version is this one (compare-and-swap). */
  ifMatch?: string;
  /** `"*"`: write only if no object exists under the key (create, never overwrite). */
  ifNoneMatch?: "*";
  /** MIME type, for stores that keep one (S3); a directory ignores it. */
  contentType?: string;
}

export interface ListOptions {
  /** Only keys that sort after this one (byte order), e.g. the last key of a previous page. */
  startAfter?: string;
}

/**
 * The few operations the layout needs from a place that stores text under `/`-separated keys:
 * an S3 bucket, a directory, memory. Every implementation must pass `objectStoreConformance`
 * from `@resourcemonitor/layout/testing`.
 */
export interface ObjectStore {
  /** The object under `key`, or `undefined` when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Writes atomically (a reader sees the old text or the new, never a mix); throws
   * `PreconditionFailedError` when `ifMatch` or `ifNoneMatch` does not hold. */
  put(key: string, body: string, options?: PutOptions): Promise<{ version: string }>;
  /** Every key starting with `prefix`, in byte order, each once. */
  list(prefix: string, options?: ListOptions): AsyncIterable<string>;
  /** Where the objects go, for log lines, e.g. `s3://bucket/prefix` or a directory. */
  readonly description: string;
  /**
   * Optional, for stores that can hold a key still while they rewrite it (a directory, through a lock): reads
   * `key`, passes its text to `change` (`undefined` when there is none), and writes what `change` returns
   * (nothing when it returns `undefined`), with no other `update` or conditional `put` in between. The layout
   * then updates list.json with one read and one write instead of a read and a compare-and-swap.
   */
  update?(key: string, change: (current: string | undefined) => string | undefined, options?: Pick<PutOptions, "contentType">): Promise<UpdateResult>;
}

/** What `update` did: the text it read, and whether it wrote the one `change` returned. */
export interface UpdateResult {
  current: string | undefined;
  written: boolean;
}

export type Precondition = "ifMatch" | "ifNoneMatch";

/** Thrown by `put` when its `ifMatch` or `ifNoneMatch` condition does not hold; nothing was written. */
export class PreconditionFailedError extends Error {
  constructor(
    readonly key: string,
    readonly condition: Precondition,
    message = condition === "ifMatch" ? `${key} changed since it was read` : `${key} already exists`,
  ) {
    super(message);
    this.name = "PreconditionFailedError";
  }
}

/** True for a `PreconditionFailedError`, also one thrown by another copy of this package. */
export function isPreconditionFailed(error: unknown): error is PreconditionFailedError {
  return error instanceof PreconditionFailedError || (error instanceof Error && error.name === "PreconditionFailedError");
}

export const JSON_CONTENT_TYPE = "application/json";

/** Orders keys as S3 lists them: by their UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Creates `key` only where no object is: `{ created: true }`, or `{ created: false, existing }` with the text
 * already there. Where the store ignores `ifNoneMatch` (`verify`), it asks first; each key created this way
 * has a single writer (its host), so nothing comes between the question and the write.
 */
export async function createIfAbsent(store: ObjectStore, key: string, body: string, contentType: string, verify: boolean): Promise<{ created: true } | { created: false; existing: string | undefined }> {
  if (verify) {
    const existing = await store.get(key);
    if (existing) return { created: false, existing: existing.body };
  }
  try {
    await store.put(key, body, { ifNoneMatch: "*", contentType });
    return { created: true };
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
  }
  return { created: false, existing: (await store.get(key))?.body };
}
