import { mkdir, open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Logger } from "pino";

/**
 * A sink's durable queue: an append-only log in numbered segment files under one directory.
 *
 * Record: magic "RMS1" (u32 BE) | payload length (u32 BE) | CRC-32 of the next two fields (u32 BE) |
 * sample time in ms (f64 BE) | payload (the document's JSON text, UTF-8). The magic lets a reader find the
 * next record after a corrupt one; the CRC tells a torn or flipped record from a good one.
 *
 * Appends are fdatasync'd before they resolve. Consumption is recorded in `head.json` lazily (at most once a
 * second, without fsync): after a crash a few records are replayed again, which the layout's history write
 * treats as a replay (same key, same bytes). A segment is deleted once fully consumed.
 */
const MAGIC = 0x524d5331;
const HEADER_BYTES = 20;
const SEGMENT_SUFFIX = ".seg";
const HEAD_FILE = "head.json";
const HEAD_SAVE_EVERY_MS = 1000;

export interface SpoolLimits {
  /** Bytes on disk before the oldest samples are dropped (default 512 MiB: a day of 1 s samples of up to 6 KB). */
  maxBytes: number;
  /** Age after which a spooled sample is dropped (default 7 days). */
  maxAgeMs: number;
  /** Samples kept in memory while the directory cannot be written (default 10,000, Telegraf's buffer). */
  memoryLimit: number;
}

export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { maxBytes: 512 * 1024 * 1024, maxAgeMs: 7 * 24 * 3_600_000, memoryLimit: 10_000 };

export interface SpoolRecord {
  /** When it was spooled, ms since the epoch: the age limit counts from here. */
  time: number;
  json: string;
}

export interface SpoolStats {
  /** Samples waiting, on disk and in memory. */
  depth: number;
  /** Bytes of the segment files. */
  bytes: number;
  /** Samples waiting in memory because the directory could not be written. */
  inMemory: number;
  /** Samples dropped because the spool was full or they were too old. */
  dropped: number;
  /** Corrupt records skipped. */
  corrupt: number;
  /** Why the directory cannot be written, while it cannot. */
  diskError?: string;
}

interface Segment {
  seq: number;
  bytes: number;
  /** Records not yet consumed. */
  count: number;
  /** Time of the newest record, for the age limit. */
  newest: number;
}

type Parsed = { kind: "record"; record: SpoolRecord; end: number } | { kind: "corrupt"; why: string; next: number } | { kind: "end" };

export function encodeRecord(record: SpoolRecord): Buffer {
  const payload = Buffer.from(record.json, "utf8");
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buffer.writeUInt32BE(MAGIC, 0);
  buffer.writeUInt32BE(payload.length, 4);
  buffer.writeDoubleBE(record.time, 12);
  payload.copy(buffer, HEADER_BYTES);
  buffer.writeUInt32BE(crc32(buffer.subarray(12)), 8);
  return buffer;
}

/** The record at `offset` of `data`, or why it is none and where the next candidate starts. */
export function parseRecord(data: Buffer, offset: number): Parsed {
  if (offset >= data.length) return { kind: "end" };
  const next = () => {
    const found = data.indexOf(MAGIC_BYTES, offset + 1);
    return found < 0 ? data.length : found;
  };
  if (data.length - offset < HEADER_BYTES) return { kind: "corrupt", why: "truncated header", next: next() };
  if (data.readUInt32BE(offset) !== MAGIC) return { kind: "corrupt", why: "no record marker", next: next() };
  const end = offset + HEADER_BYTES + data.readUInt32BE(offset + 4);
  if (end > data.length) return { kind: "corrupt", why: "truncated record", next: next() };
  if (crc32(data.subarray(offset + 12, end)) !== data.readUInt32BE(offset + 8)) return { kind: "corrupt", why: "checksum mismatch", next: next() };
  return { kind: "record", record: { time: data.readDoubleBE(offset + 12), json: data.toString("utf8", offset + HEADER_BYTES, end) }, end };
}

const MAGIC_BYTES = Buffer.from([0x52, 0x4d, 0x53, 0x31]);

function segmentName(seq: number): string {
  return `${String(seq).padStart(12, "0")}${SEGMENT_SUFFIX}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a directory scan finds in one segment from `offset` on. */
function scanSegment(data: Buffer, offset: number): { count: number; newest: number; validEnd: number } {
  let count = 0;
  let newest = 0;
  let validEnd = offset;
  for (let at = offset; ; ) {
    const parsed = parseRecord(data, at);
    if (parsed.kind === "end") break;
    if (parsed.kind === "corrupt") {
      at = parsed.next;
      continue;
    }
    count += 1;
    newest = Math.max(newest, parsed.record.time);
    at = validEnd = parsed.end;
  }
  return { count, newest, validEnd };
}

export class Spool {
  private segments: Segment[] = [];
  private readonly memory: SpoolRecord[] = [];
  /** Byte offset of the next unconsumed record in segments[0]. */
  private headOffset = 0;
  private headSavedAt = 0;
  private headDirty = false;
  private writer: { seq: number; handle: FileHandle } | undefined;
  private reader: { seq: number; data: Buffer } | undefined;
  private peeked: { record: SpoolRecord; end: number } | { record: SpoolRecord; fromMemory: true } | undefined;
  private readonly stats = { dropped: 0, corrupt: 0, diskError: undefined as string | undefined };
  private readonly segmentBytes: number;
  /** The highest segment number seen, so a new segment never reuses a number head.json may name. */
  private lastSeq = 0;
  private pendingDrops = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string, private readonly limits: SpoolLimits, private readonly logger: Logger) {
    this.segmentBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(limits.maxBytes / 16)));
  }

  /** Opens the spool in `dir` (created on the first append), finding what an earlier run left there. */
  static async open(dir: string, limits: SpoolLimits, logger: Logger): Promise<Spool> {
    const spool = new Spool(dir, limits, logger);
    try {
      await spool.scan();
    } catch (error) {
      spool.diskFailed("cannot read", error);
    }
    return spool;
  }

  get depth(): number {
    let depth = this.memory.length;
    for (const segment of this.segments) depth += segment.count;
    return depth;
  }

  snapshot(): SpoolStats {
    return {
      depth: this.depth,
      bytes: this.segments.reduce((sum, segment) => sum + segment.bytes, 0),
      inMemory: this.memory.length,
      dropped: this.stats.dropped,
      corrupt: this.stats.corrupt,
      ...(this.stats.diskError ? { diskError: this.stats.diskError } : {}),
    };
  }

  /**
   * Appends at the tail, durably. Never throws: when the directory cannot be written the record is kept in
   * memory (and stays behind every record already on disk); when full, the oldest records are dropped.
   */
  append(record: SpoolRecord): Promise<void> {
    return this.exclusive(() => this.appendNow(record));
  }

  /** The oldest record still waiting (expired and corrupt ones are dropped on the way), or undefined. */
  peek(): Promise<SpoolRecord | undefined> {
    return this.exclusive(() => this.peekNow());
  }

  /** Consumes the record `peek` returned. */
  ack(): Promise<void> {
    return this.exclusive(() => this.ackNow());
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.headDirty) await this.saveHead();
      await this.writer?.handle.close().catch(() => undefined);
      this.writer = undefined;
    });
  }

  /** Runs one operation at a time: an append dropping a segment must not interleave with a read of it. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async appendNow(record: SpoolRecord): Promise<void> {
    if (this.memory.length === 0) {
      try {
        await this.appendToDisk(record);
        if (this.stats.diskError) this.logger.info(`spool ${this.dir} is writable again`);
        this.stats.diskError = undefined;
        return;
      } catch (error) {
        this.diskFailed("cannot write", error);
      }
    }
    this.memory.push(record);
    if (this.memory.length > this.limits.memoryLimit) this.dropped(this.memory.splice(0, this.memory.length - this.limits.memoryLimit).length, "the in-memory spool is full");
  }

  private async peekNow(): Promise<SpoolRecord | undefined> {
    if (this.peeked) return this.peeked.record;
    let expired = 0;
    try {
      return await this.peekDisk(() => (expired += 1));
    } finally {
      this.dropped(expired, "older than the age limit");
    }
  }

  private async peekDisk(onExpired: () => void): Promise<SpoolRecord | undefined> {
    while (this.segments.length > 0) {
      const segment = this.segments[0] as Segment;
      const parsed = segment.count > 0 ? parseRecord(await this.readHead(segment), this.headOffset) : ({ kind: "end" } as const);
      if (parsed.kind === "record") {
        if (this.expired(parsed.record.time)) {
          this.consume(segment, parsed.end);
          onExpired();
          continue;
        }
        this.peeked = { record: parsed.record, end: parsed.end };
        return parsed.record;
      }
      if (parsed.kind === "corrupt") {
        this.stats.corrupt += 1;
        this.logger.warn({ file: join(this.dir, segmentName(segment.seq)), offset: this.headOffset }, `spool record at ${join(this.dir, segmentName(segment.seq))}:${this.headOffset} is corrupt (${parsed.why}); skipped ${parsed.next - this.headOffset} bytes`);
        this.headOffset = parsed.next;
        continue;
      }
      if (this.segments.length === 1) {
        segment.count = 0; // whatever the scan counted, nothing readable is left
        break;
      }
      await this.dropHeadSegment();
    }
    const first = this.memory[0];
    if (first) this.peeked = { record: first, fromMemory: true };
    return first;
  }

  private async ackNow(): Promise<void> {
    const peeked = this.peeked;
    this.peeked = undefined;
    if (!peeked) return;
    if ("fromMemory" in peeked) {
      this.memory.shift();
      return;
    }
    const segment = this.segments[0] as Segment;
    this.consume(segment, peeked.end);
    if (segment.count === 0 && this.segments.length > 1) await this.dropHeadSegment();
    else if (Date.now() - this.headSavedAt >= HEAD_SAVE_EVERY_MS) await this.saveHead();
  }

  private consume(segment: Segment, end: number): void {
    segment.count = Math.max(0, segment.count - 1);
    this.headOffset = end;
    this.headDirty = true;
  }

  private expired(time: number): boolean {
    return Date.now() - time > this.limits.maxAgeMs;
  }

  private dropped(count: number, why: string): void {
    if (count <= 0) return;
    this.stats.dropped += count;
    this.logger.warn({ dropped: count, droppedTotal: this.stats.dropped, dir: this.dir }, `spool ${this.dir}: dropped the ${count} oldest samples: ${why}`);
  }

  private diskFailed(what: string, error: unknown): void {
    const text = `${what} ${this.dir}: ${errorText(error)}`;
    if (this.stats.diskError !== text) {
      this.logger.error(
        { dir: this.dir, inMemory: this.memory.length },
        `spool ${text}; keeping up to ${this.limits.memoryLimit} unsent samples in memory instead (lost if the agent stops). Fix: make the state directory writable (stateDir, --state-dir) or free space on its file system`,
      );
    }
    this.stats.diskError = text;
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      // Nothing to read; if nothing can be written there either, the first append says so.
      if (["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "")) return;
      throw error;
    }
    const seqs = names.filter((name) => name.endsWith(SEGMENT_SUFFIX)).map((name) => Number.parseInt(name, 10)).filter(Number.isSafeInteger).sort((a, b) => a - b);
    const head = await this.readHeadFile();
    this.lastSeq = Math.max(head?.seq ?? 0, ...seqs);
    for (const seq of seqs) {
      if (head && seq < head.seq) {
        await unlink(join(this.dir, segmentName(seq)));
        continue;
      }
      const data = await readFile(join(this.dir, segmentName(seq)));
      const offset = head && seq === head.seq ? Math.min(head.offset, data.length) : 0;
      const found = scanSegment(data, offset);
      this.segments.push({ seq, bytes: data.length, count: found.count, newest: found.newest });
      if (seq === head?.seq) this.headOffset = offset;
    }
    await this.truncateTornTail();
  }

  private async readHeadFile(): Promise<{ seq: number; offset: number } | undefined> {
    try {
      const head = JSON.parse(await readFile(join(this.dir, HEAD_FILE), "utf8")) as { seq?: unknown; offset?: unknown };
      if (Number.isSafeInteger(head.seq) && Number.isSafeInteger(head.offset)) return { seq: head.seq as number, offset: head.offset as number };
      this.logger.warn(`spool ${this.dir}: ${HEAD_FILE} is not a read position; replaying from the oldest segment (the store drops what it already has)`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.logger.warn(`spool ${this.dir}: ${HEAD_FILE} unreadable (${errorText(error)}); replaying from the oldest segment`);
    }
    return undefined;
  }

  /** A record half-written when the machine stopped would otherwise sit between good records forever. */
  private async truncateTornTail(): Promise<void> {
    const tail = this.segments.at(-1);
    if (!tail) return;
    const path = join(this.dir, segmentName(tail.seq));
    const data = await readFile(path);
    const start = this.segments.length === 1 ? this.headOffset : 0;
    const { validEnd } = scanSegment(data, start);
    if (validEnd >= data.length) return;
    this.logger.warn({ file: path }, `spool ${path}: ${data.length - validEnd} bytes of a torn record at the end; truncated`);
    this.stats.corrupt += 1;
    const handle = await open(path, "r+");
    try {
      await handle.truncate(validEnd);
    } finally {
      await handle.close();
    }
    tail.bytes = validEnd;
  }

  private async appendToDisk(record: SpoolRecord): Promise<void> {
    const buffer = encodeRecord(record);
    this.enforceLimits(buffer.length);
    await this.dropOverLimit();
    let tail = this.segments.at(-1);
    if (!tail || tail.bytes + buffer.length > this.segmentBytes) tail = await this.newSegment();
    const writer = await this.writerFor(tail);
    try {
      const { bytesWritten } = await writer.write(buffer, 0, buffer.length, tail.bytes);
      if (bytesWritten !== buffer.length) throw new Error(`short write (${bytesWritten} of ${buffer.length} bytes)`);
      await writer.datasync();
    } catch (error) {
      await writer.truncate(tail.bytes).catch(() => undefined);
      throw error;
    }
    tail.bytes += buffer.length;
    tail.count += 1;
    tail.newest = Math.max(tail.newest, record.time);
  }

  /** Marks whole oldest segments for dropping while the spool is over its size or age limit. */
  private enforceLimits(incoming: number): void {
    let total = incoming;
    for (const segment of this.segments) total += segment.bytes;
    let drop = 0;
    for (const segment of this.segments.slice(0, -1)) {
      if (total <= this.limits.maxBytes && !this.expired(segment.newest)) break;
      total -= segment.bytes;
      drop += 1;
    }
    this.pendingDrops = drop;
  }

  private async dropOverLimit(): Promise<void> {
    for (; this.pendingDrops > 0; this.pendingDrops -= 1) {
      const head = this.segments[0] as Segment;
      const count = head.count;
      await this.dropHeadSegment();
      this.dropped(count, `over the spool's limits (${this.limits.maxBytes} bytes, ${Math.round(this.limits.maxAgeMs / 3_600_000)} h)`);
    }
  }

  private async dropHeadSegment(): Promise<void> {
    const head = this.segments.shift() as Segment;
    this.peeked = undefined;
    this.reader = undefined;
    this.headOffset = 0;
    await unlink(join(this.dir, segmentName(head.seq))).catch(() => undefined);
    await this.saveHead();
  }

  private async newSegment(): Promise<Segment> {
    await mkdir(this.dir, { recursive: true });
    this.lastSeq += 1;
    const segment: Segment = { seq: this.lastSeq, bytes: 0, count: 0, newest: 0 };
    await this.writer?.handle.close().catch(() => undefined);
    const handle = await open(join(this.dir, segmentName(segment.seq)), "wx");
    this.writer = { seq: segment.seq, handle };
    await syncDirectory(this.dir);
    this.segments.push(segment);
    return segment;
  }

  private async writerFor(segment: Segment): Promise<FileHandle> {
    if (this.writer?.seq !== segment.seq) {
      await this.writer?.handle.close().catch(() => undefined);
      this.writer = { seq: segment.seq, handle: await open(join(this.dir, segmentName(segment.seq)), "r+") };
    }
    return this.writer.handle;
  }

  /** The head segment's bytes; re-read when records were appended to it since. */
  private async readHead(segment: Segment): Promise<Buffer> {
    if (this.reader?.seq !== segment.seq || this.reader.data.length < segment.bytes) {
      const data = await readFile(join(this.dir, segmentName(segment.seq)));
      this.reader = { seq: segment.seq, data: data.subarray(0, segment.bytes) };
    }
    return this.reader.data;
  }

  private async saveHead(): Promise<void> {
    const head = this.segments[0];
    this.headSavedAt = Date.now();
    this.headDirty = false;
    if (!head) return;
    const path = join(this.dir, HEAD_FILE);
    try {
      await writeFile(`${path}.tmp`, JSON.stringify({ seq: head.seq, offset: this.headOffset }));
      await rename(`${path}.tmp`, path);
    } catch (error) {
      // Only costs replaying a few records again after a restart.
      this.logger.debug({ err: error }, `spool ${this.dir}: could not save the read position`);
    }
  }
}

/** Makes a new file's directory entry durable, so a power loss cannot lose a segment that was fsync'd. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
