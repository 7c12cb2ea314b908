import { compareKeys, PreconditionFailedError, type ListOptions, type ObjectStore, type PutOptions, type StoredObject } from "./store.js";

interface MemoryObject extends StoredObject {
  contentType: string | undefined;
}

/** An ObjectStore in a Map, for tests and as the reference behaviour. Versions are `1`, `2`, … */
export class MemoryStore implements ObjectStore {
  readonly description = "memory";
  private readonly objects = new Map<string, MemoryObject>();
  private writes = 0;

  async get(key: string): Promise<StoredObject | undefined> {
    const object = this.objects.get(key);
    return object && { body: object.body, version: object.version };
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    const current = this.objects.get(key);
    if (options.ifNoneMatch === "*" && current) throw new PreconditionFailedError(key, "ifNoneMatch");
    if (options.ifMatch !== undefined && current?.version !== options.ifMatch) throw new PreconditionFailedError(key, "ifMatch");
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
