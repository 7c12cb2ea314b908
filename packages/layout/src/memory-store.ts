import { compareKeys, PreconditionFailedError, type ListOptions, type ObjectStore, type PutOptions, type StoredObject } from "./store.js";

interface MemoryObject extends StoredObject {
  contentType: string | undefined;
}

/** An ObjectStore in a Map, for tests and as the reference behaviour. Versions are `1`, `2`, … */
export class MemoryStore implements ObjectStore {
  readonly description = "memory";
  private readonly objects = new Map<string, MemoryObject>();
  private writes = 0;
  /** Calls of `get` and `put` so far. */
  readonly calls = { get: 0, put: 0 };

  /** `ignoreConditions`: accept every write, as stores that ignore If-Match / If-None-Match do. */
  constructor(private readonly options: { ignoreConditions?: boolean } = {}) {}

  async get(key: string): Promise<StoredObject | undefined> {
    this.calls.get += 1;
    const object = this.objects.get(key);
    return object && { body: object.body, version: object.version };
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    this.calls.put += 1;
    const current = this.objects.get(key);
    const checked = !this.options.ignoreConditions;
    if (checked && options.ifNoneMatch === "*" && current) throw new PreconditionFailedError(key, "ifNoneMatch");
    if (checked && options.ifMatch !== undefined && current?.version !== options.ifMatch) throw new PreconditionFailedError(key, "ifMatch");
    this.writes += 1;
    const version = String(this.writes);
    this.objects.set(key, { body, version, contentType: options.contentType });
    return { version };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    const after = options.startAfter ?? "";
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix) && compareKeys(key, after) > 0);
    yield* keys.sort(compareKeys);
  }

  /** The content type the object was written with. */
  contentTypeOf(key: string): string | undefined {
    return this.objects.get(key)?.contentType;
  }
}
