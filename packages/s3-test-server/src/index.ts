import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { buildApp } from "fauxqs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkPayloadHash, checkSignature } from "./sigv4.js";

interface FauxObject {
  key: string;
}

interface ListOptions {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
  marker?: string;
}

interface Listing {
  objects: FauxObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

/** The part of fauxqs's in-memory S3 store this helper uses (fauxqs does not export the class). */
interface FauxS3Store {
  createBucket(name: string): void;
  hasBucket(name: string): boolean;
  headObject(bucket: string, key: string): { etag: string; contentType: string; metadata: Record<string, string> };
  listObjects(bucket: string, options?: ListOptions): Listing;
}
type S3StoreClass = new () => FauxS3Store;

/** A string that sorts with `<` as `text` sorts by its UTF-8 bytes (S3's order): the bytes as Latin-1 characters. */
const byteOrderKey = (text: string) => (/[^ -~]/.test(text) ? Buffer.from(text, "utf8").toString("latin1") : text);

/**
 * fauxqs 1.9.2 sorts keys with localeCompare (`a_1` before `a.json`) and compares `StartAfter` in UTF-16;
 * S3 lists in UTF-8 byte order. This lists as S3 does, sorting each key once by a byte-order key (fauxqs's own
 * listing sorted every key of the bucket with localeCompare on every page: 5 ms for 4,000 keys).
 */
function byteOrderStore(S3Store: S3StoreClass): S3StoreClass {
  return class extends S3Store {
    override listObjects(bucket: string, options: ListOptions = {}): Listing {
      const objectsMap = (this as unknown as { buckets?: Map<string, Map<string, FauxObject>> }).buckets?.get(bucket);
      if (!objectsMap) return super.listObjects(bucket, options); // fauxqs's NoSuchBucket
      const prefix = options.prefix ?? "";
      const all: { object: FauxObject; order: string }[] = [];
      for (const object of objectsMap.values()) if (object.key.startsWith(prefix)) all.push({ object, order: byteOrderKey(object.key) });
      all.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
      const startAfter = byteOrderKey(options.startAfter ?? options.marker ?? "");
      const maxKeys = options.maxKeys ?? 1000;
      const objects: FauxObject[] = [];
      const commonPrefixes = new Set<string>();
      for (const { object, order } of all) {
        if (order <= startAfter) continue;
        const cut = options.delimiter ? object.key.indexOf(options.delimiter, prefix.length) : -1;
        const common = cut >= 0 ? object.key.slice(0, cut + (options.delimiter?.length ?? 0)) : undefined;
        if (common !== undefined && (commonPrefixes.has(common) || byteOrderKey(common) <= startAfter)) continue;
        if (objects.length + commonPrefixes.size >= maxKeys) return { objects, commonPrefixes: [...commonPrefixes], isTruncated: true };
        if (common !== undefined) commonPrefixes.add(common);
        else objects.push(object);
      }
      return { objects, commonPrefixes: [...commonPrefixes], isTruncated: false };
    }
  };
}

/** What a faulty server does to each request while the fault is set. */
export type FaultKind =
  /** Nothing: requests are served. */
  | "none"
  /** The listener is closed and open sockets destroyed: connections are refused (ECONNREFUSED). */
  | "refuse"
  /** Each request's socket is reset (TCP RST) before any answer (ECONNRESET). */
  | "reset"
  /** `503 SlowDown`, as S3 answers when throttling. */
  | "slowdown"
  /** The request is read and never answered; the socket stays open until the server closes. */
  | "freeze"
  /** An S3 error answer of your choosing (`error` below), e.g. 403 AccessDenied or 301 PermanentRedirect. */
  | "error";

export interface S3ErrorAnswer {
  status: number;
  code: string;
  message: string;
  /** Extra response headers, e.g. `{ "x-amz-bucket-region": "eu-west-1" }` for a wrong-region redirect. */
  headers?: Record<string, string>;
}

export interface FaultOptions {
  /** Only requests for which this returns true are hit (default: all). */
  match?: (request: RecordedRequest) => boolean;
  /** Only the next `times` matching requests are hit, then the fault clears itself (default: until changed). */
  times?: number;
  /** The answer for kind `error`. */
  error?: S3ErrorAnswer;
}

export interface S3ServerOptions {
  /** AWS conditional-write semantics for PutObject (412 / 404); `false` ignores the headers, as some stores do (default true). */
  conditional?: boolean;
  /** Each request waits a uniformly random time in `[min, max]` milliseconds before it is handled. */
  latencyMs?: [number, number];
  /** Buckets to create at start. */
  buckets?: string[];
  /** Keep every request's method, URL and headers for `requests()` (default true). */
  recordRequests?: boolean;
  /**
   * Check every request's SigV4 signature (and a PUT body's `x-amz-content-sha256`) against these
   * credentials, access key id → secret access key, answering S3's 403 / 400 when it does not hold.
   * Default: none, any request is served.
   */
  signatures?: Readonly<Record<string, string>>;
}

/** One request as the server received it. `key` is `undefined` for bucket-level requests. */
export interface RecordedRequest {
  method: string;
  /** Path-style (`/bucket/key?query`), also for a virtual-hosted-style request. */
  url: string;
  /** The request target as received: without the bucket for a virtual-hosted-style request. */
  rawUrl: string;
  bucket: string | undefined;
  key: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestCounts {
  /** Requests by HTTP method, e.g. `{ PUT: 3, GET: 1 }`. */
  byMethod: Record<string, number>;
  total: number;
  /** Request body bytes received (Content-Length of requests that had a body). */
  bytesIn: number;
}

export interface S3TestServer {
  /** `http://127.0.0.1:<port>`: give it to the SDK with `forcePathStyle: true`. */
  readonly endpoint: string;
  readonly port: number;
  createBucket(name: string): void;
  /** Content type and `x-amz-meta-*` of a stored object, or `undefined` when there is none. */
  objectInfo(bucket: string, key: string): { etag: string; contentType: string; metadata: Record<string, string> } | undefined;
  setConditional(on: boolean): void;
  /** Turns signature checks on (with these credentials) or off (`undefined`). */
  setSignatures(secrets: Readonly<Record<string, string>> | undefined): void;
  setLatency(latencyMs: [number, number] | undefined): void;
  setFault(kind: FaultKind, options?: FaultOptions): Promise<void>;
  counts(): RequestCounts;
  resetCounts(): void;
  /** The requests received since start or the last `resetCounts()`, oldest first. */
  requests(): RecordedRequest[];
  close(): Promise<void>;
}

const HOST = "127.0.0.1";
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function loadS3StoreClass(): Promise<S3StoreClass> {
  const module = (await import(new URL("./s3/s3Store.js", import.meta.resolve("fauxqs")).href)) as { S3Store: S3StoreClass };
  return module.S3Store;
}

function errorXml({ code, message }: S3ErrorAnswer, resource: string): string {
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message><Resource>${escape(resource)}</Resource><RequestId>S3TESTSERVER</RequestId></Error>`;
}

function sendError(reply: FastifyReply, answer: S3ErrorAnswer, resource: string): FastifyReply {
  return reply
    .status(answer.status)
    .headers({ "content-type": "application/xml", ...answer.headers })
    .send(errorXml(answer, resource));
}

const SLOW_DOWN: S3ErrorAnswer = { status: 503, code: "SlowDown", message: "Please reduce your request rate." };

/** Bucket and key of a path-style URL (`/bucket/key?query`). */
function parsePath(url: string): { bucket: string | undefined; key: string | undefined } {
  const path = url.split("?")[0] ?? "";
  const slash = path.indexOf("/", 1);
  const decode = (text: string) => decodeURIComponent(text);
  if (path.length <= 1) return { bucket: undefined, key: undefined };
  if (slash === -1) return { bucket: decode(path.slice(1)), key: undefined };
  const key = path.slice(slash + 1);
  return { bucket: decode(path.slice(1, slash)), key: key === "" ? undefined : decode(key) };
}

function record(request: FastifyRequest): RecordedRequest {
  return { method: request.method, url: request.url, rawUrl: request.originalUrl, ...parsePath(request.url), headers: { ...request.headers } };
}

const unquote = (etag: string) => etag.replace(/^W\//, "").replace(/^"|"$/g, "");

/** The S3 answer a conditional PutObject gets against the current ETag, or `undefined` when it may go ahead. */
function conditionalFailure(headers: RecordedRequest["headers"], current: string | undefined): S3ErrorAnswer | undefined {
  const ifMatch = headers["if-match"];
  const ifNoneMatch = headers["if-none-match"];
  if (typeof ifMatch === "string") {
    if (current === undefined) return { status: 404, code: "NoSuchKey", message: "The specified key does not exist." };
    const wanted = ifMatch.split(",").map((tag) => unquote(tag.trim()));
    if (!wanted.includes("*") && !wanted.includes(unquote(current))) return { status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" };
  }
  if (ifNoneMatch === "*" && current !== undefined) return { status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" };
  return undefined;
}

/**
 * Starts fauxqs's S3 in-process on 127.0.0.1 and a free port, with AWS conditional writes, latency,
 * fault injection and request counts layered on top through fastify hooks.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3TestServer> {
  const S3Store = byteOrderStore(await loadS3StoreClass());
  const store = new S3Store();
  const { app } = await buildWithStore(store);
  const server = new FaultyServer(app, store, options);
  await server.listen();
  for (const bucket of options.buckets ?? []) store.createBucket(bucket);
  return server.api();
}

type App = FastifyInstance;

/** buildApp takes all three stores or none: ours for S3, so the hooks can read ETags; fresh ones for SQS and SNS. */
async function buildWithStore(s3Store: FauxS3Store): Promise<{ app: App }> {
  const appModule = import.meta.resolve("fauxqs");
  const { SqsStore } = (await import(new URL("./sqs/sqsStore.js", appModule).href)) as { SqsStore: new () => unknown };
  const { SnsStore } = (await import(new URL("./sns/snsStore.js", appModule).href)) as { SnsStore: new () => unknown };
  const stores = { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store } as unknown as NonNullable<Parameters<typeof buildApp>[0]>["stores"];
  // Wrapped: a fastify instance is a thenable, and awaiting it would make it ready before our hooks are added.
  return { app: buildApp({ logger: false, stores }) };
}

class FaultyServer {
  private conditional: boolean;
  private signatures: Readonly<Record<string, string>> | undefined;
  private latencyMs: [number, number] | undefined;
  private fault: { kind: FaultKind; options: FaultOptions } = { kind: "none", options: {} };
  private readonly sockets = new Set<Socket>();
  private readonly keyLocks = new Map<string, Promise<void>>();
  private byMethod: Record<string, number> = {};
  private total = 0;
  private bytesIn = 0;
  private log: RecordedRequest[] = [];
  private port = 0;
  private listening = false;

  constructor(private readonly app: App, private readonly store: FauxS3Store, private readonly options: S3ServerOptions) {
    this.conditional = options.conditional ?? true;
    this.signatures = options.signatures;
    this.latencyMs = options.latencyMs;
    app.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    app.addHook("onRequest", (request, reply) => this.onRequest(request, reply));
    app.addHook("preHandler", (request, reply) => this.preHandler(request, reply));
  }

  async listen(): Promise<void> {
    await this.app.listen({ host: HOST, port: 0 });
    this.port = (this.app.server.address() as AddressInfo).port;
    this.listening = true;
  }

  api(): S3TestServer {
    return {
      endpoint: `http://${HOST}:${this.port}`,
      port: this.port,
      createBucket: (name) => this.store.createBucket(name),
      objectInfo: (bucket, key) => this.objectInfo(bucket, key),
      setConditional: (on) => void (this.conditional = on),
      setSignatures: (secrets) => void (this.signatures = secrets),
      setLatency: (latencyMs) => void (this.latencyMs = latencyMs),
      setFault: (kind, options = {}) => this.setFault(kind, options),
      counts: () => ({ byMethod: { ...this.byMethod }, total: this.total, bytesIn: this.bytesIn }),
      resetCounts: () => this.resetCounts(),
      requests: () => [...this.log],
      close: () => this.close(),
    };
  }

  private objectInfo(bucket: string, key: string) {
    try {
      const { etag, contentType, metadata } = this.store.headObject(bucket, key);
      return { etag, contentType, metadata };
    } catch {
      return undefined;
    }
  }

  private resetCounts(): void {
    this.byMethod = {};
    this.total = 0;
    this.bytesIn = 0;
    this.log = [];
  }

  private async setFault(kind: FaultKind, options: FaultOptions): Promise<void> {
    this.fault = { kind, options };
    if (kind === "refuse" && this.listening) {
      this.listening = false;
      await new Promise<void>((done) => {
        this.app.server.close(() => done());
        for (const socket of this.sockets) socket.destroy();
      });
      // Let clients in this process see their pooled sockets close, so their next request is refused, not reset.
      await sleep(20);
    } else if (kind !== "refuse" && !this.listening) {
      await new Promise<void>((done, fail) => {
        this.app.server.once("error", fail);
        this.app.server.listen(this.port, HOST, () => done());
      });
      this.listening = true;
    }
  }

  private activeFault(request: RecordedRequest): FaultKind {
    const { kind, options } = this.fault;
    if (kind === "none" || kind === "refuse" || (options.match && !options.match(request))) return "none";
    if (options.times !== undefined) {
      options.times -= 1;
      if (options.times <= 0) this.fault = { kind: "none", options: {} };
    }
    return kind;
  }

  /** A hook that answers returns the reply, as fastify asks of async hooks that end the request early. */
  private async onRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const seen = record(request);
    this.count(seen);
    if (this.latencyMs) {
      const [min, max] = this.latencyMs;
      await sleep(min + Math.random() * (max - min));
    }
    switch (this.activeFault(seen)) {
      case "reset":
        request.raw.socket.resetAndDestroy();
        return new Promise<never>(() => undefined);
      case "freeze":
        return new Promise<never>(() => undefined);
      case "slowdown":
        return sendError(reply, SLOW_DOWN, request.url);
      case "error":
        return sendError(reply, this.fault.options.error ?? SLOW_DOWN, request.url);
      default:
        return this.checkSignature(seen, reply);
    }
  }

  private checkSignature(seen: RecordedRequest, reply: FastifyReply): FastifyReply | undefined {
    if (!this.signatures) return undefined;
    const failure = checkSignature({ method: seen.method, rawUrl: seen.rawUrl, headers: seen.headers }, this.signatures);
    return failure && sendError(reply, failure, seen.url);
  }

  private count(seen: RecordedRequest): void {
    this.byMethod[seen.method] = (this.byMethod[seen.method] ?? 0) + 1;
    this.total += 1;
    const length = Number(seen.headers["content-length"] ?? 0);
    if (Number.isFinite(length)) this.bytesIn += length;
    if (this.options.recordRequests ?? true) this.log.push(seen);
  }

  /**
   * Every PutObject holds its key's lock from here until its answer is sent, so a conditional check and
   * the write it guards are one step to other writers of the key, as on S3.
   */
  private async preHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const payloadFailure = this.signatures && checkPayloadHash(request.headers, Buffer.isBuffer(request.body) ? request.body : undefined);
    if (payloadFailure) return sendError(reply, payloadFailure, request.url);
    const { bucket, key } = parsePath(request.url);
    if (request.method !== "PUT" || bucket === undefined || key === undefined || request.headers["x-amz-copy-source"] || !this.conditional) return undefined;
    if (request.url.includes("uploadId=")) return undefined;
    const release = await this.lock(`${bucket}/${key}`);
    reply.raw.once("close", release);
    const failure = conditionalFailure(request.headers, this.objectInfo(bucket, key)?.etag);
    return failure && sendError(reply, failure, request.url);
  }

  private async lock(name: string): Promise<() => void> {
    const previous = this.keyLocks.get(name) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const held = new Promise<void>((done) => (release = done));
    const chained = previous.then(() => held);
    this.keyLocks.set(name, chained);
    await previous;
    return () => {
      release();
      if (this.keyLocks.get(name) === chained) this.keyLocks.delete(name);
    };
  }

  private async close(): Promise<void> {
    this.fault = { kind: "none", options: {} };
    for (const socket of this.sockets) socket.destroy();
    if (!this.listening) {
      this.listening = true; // app.close() closes the server; it must not be closed twice
      await new Promise<void>((done) => this.app.server.listen(0, HOST, () => done()));
    }
    await this.app.close();
  }
}
