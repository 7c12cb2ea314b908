import type { Agent } from "node:http";
import { crc32 } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException, type PutObjectCommandInput, type S3Client } from "@aws-sdk/client-s3";
import { PreconditionFailedError, type ListOptions, type ObjectStore, type Precondition, type PutOptions, type StoredObject } from "@resourcemonitor/layout";
import { describeS3Failure, type S3Action, type FailureContext } from "./errors.js";
import { LeanTransport, type LeanOutcome, type LeanResponse } from "./lean-http.js";
import { errorCode, parseListPage, type ListPage } from "./s3-xml.js";
import { replayFirstAttempt } from "./sdk-replay.js";

export type ServerSideEncryption = "AES256" | "aws:kms";

export interface S3StoreOptions {
  bucket: string;
  /** Server-side encryption asked for on every PutObject (SSE-S3 `AES256` or SSE-KMS `aws:kms`). */
  sse?: ServerSideEncryption;
  /** The KMS key for `aws:kms`; default: the account's `aws/s3` key. */
  kmsKeyId?: string;
  /** Keys per ListObjectsV2 page (default 1000, S3's maximum). */
  pageSize?: number;
  /** Where requests go, for error messages (`https://s3.<region>.amazonaws.com` when unset). */
  endpoint?: string;
  region?: string;
  /** Request timeout and attempts, for error messages. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** How a key is named in an error message (the sink names history keys by their folder, so one message fits every tick). */
  keyLabel?: (key: string) => string;
  /**
   * Requests go signed over node:http(s) without the SDK's middleware, which handles only what is not the
   * plain answer (default true); `false` sends everything through the SDK.
   */
  lean?: boolean;
  /** The keep-alive agent of the lean path (default: its own). */
  agent?: Agent;
}

/** An S3 ObjectStore; `destroy()` closes the lean path's idle connections (the client is its owner's to destroy). */
export interface S3ObjectStore extends ObjectStore {
  destroy(): void;
}

/** A failure of one S3 request, with a message that tells the operator what to do. */
export class S3StoreError extends Error {
  constructor(message: string, readonly action: S3Action, readonly key: string | undefined, options: { cause: unknown }) {
    super(message, options);
    this.name = "S3StoreError";
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

const CHECKSUM_HEADERS = ["x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1", "x-amz-checksum-sha256"];

const crc32Base64 = (body: string | Buffer) => {
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body));
  return sum.toString("base64");
};

/**
 * Whether a GetObject answer's body is as the SDK would hand it on: no checksum, a part-numbered one (the SDK
 * skips those), or a CRC32 that matches. Anything else (another algorithm, a mismatch) is the SDK's to judge.
 */
function checksumAccepted(response: LeanResponse): boolean {
  const present = CHECKSUM_HEADERS.filter((name) => response.headers[name] !== undefined);
  if (present.length === 0) return true;
  const crc = response.headers["x-amz-checksum-crc32"];
  if (present.length !== 1 || typeof crc !== "string") return false;
  return /-\d+$/.test(crc) || crc === crc32Base64(response.body);
}

const answered = (outcome: LeanOutcome): LeanResponse | undefined => (outcome.kind === "answered" ? outcome.response : undefined);

/** Which of a PutObject's conditions failed, when S3's answer says one did: 412, 409 (a concurrent conditional write won), 404 on If-Match. */
function failedCondition(condition: Precondition | undefined, status: number | undefined, code: string | undefined): boolean {
  if (!condition) return false;
  return status === 412 || status === 409 || (status === 404 && condition === "ifMatch" && code === "NoSuchKey");
}

/** The checksum settings the client resolved (`WHEN_SUPPORTED` by default: CRC32 on every PutObject, checked on GetObject). */
interface ChecksumSettings {
  onPut: boolean;
  onGet: boolean;
}

async function checksumSettings(client: S3Client): Promise<ChecksumSettings> {
  const config = client.config as { requestChecksumCalculation?: () => Promise<string>; responseChecksumValidation?: () => Promise<string> };
  return {
    onPut: (await config.requestChecksumCalculation?.()) !== "WHEN_REQUIRED",
    onGet: (await config.responseChecksumValidation?.()) !== "WHEN_REQUIRED",
  };
}

/**
 * An ObjectStore on one S3 bucket: versions are ETags, conditions are `If-Match` / `If-None-Match`.
 * Each request goes first the lean way; whatever is not its plain answer (an unmapped status, a network
 * error, a timeout, a redirect, an answer it cannot read) goes to the SDK with that first attempt replayed,
 * so errors, retries and their messages are the SDK's, exactly as when it sends everything.
 */
class S3Store implements S3ObjectStore {
  readonly description: string;
  private readonly lean: LeanTransport | undefined;
  private checksums: Promise<ChecksumSettings> | undefined;

  constructor(private readonly client: S3Client, private readonly options: S3StoreOptions) {
    this.description = `s3://${options.bucket}`;
    if (options.lean !== false) this.lean = new LeanTransport(client, options.bucket, { requestTimeoutMs: options.requestTimeoutMs, agent: options.agent });
  }

  destroy(): void {
    this.lean?.destroy();
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const outcome = await this.leanGet(key);
    const response = answered(outcome);
    if (response?.status === 200 && checksumAccepted(response)) return { body: response.body.toString("utf8"), version: String(response.headers.etag ?? "") };
    if (response?.status === 404 && errorCode(response.body.toString("utf8")) === "NoSuchKey") return undefined;
    return this.sdkGet(key, outcome);
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) throw new TypeError("put: give ifMatch or ifNoneMatch, not both");
    const condition = options.ifMatch !== undefined ? "ifMatch" : options.ifNoneMatch !== undefined ? "ifNoneMatch" : undefined;
    const outcome = await this.leanPut(key, body, options);
    const response = answered(outcome);
    if (response && response.status >= 200 && response.status < 300) return { version: String(response.headers.etag ?? "") };
    if (response && failedCondition(condition, response.status, errorCode(response.body.toString("utf8")))) throw new PreconditionFailedError(key, condition as Precondition);
    return this.sdkPut(key, body, options, condition, outcome);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, token === undefined ? options.startAfter : undefined, token);
      yield* page.keys;
      token = page.truncated ? page.nextToken : undefined;
    } while (token !== undefined);
  }

  private async leanGet(key: string): Promise<LeanOutcome> {
    if (!this.lean) return { kind: "unsent" };
    const { onGet } = await this.settings();
    return this.lean.send({ method: "GET", key, headers: onGet ? { "x-amz-checksum-mode": "ENABLED" } : {} });
  }

  private async leanPut(key: string, body: string, options: PutOptions): Promise<LeanOutcome> {
    if (!this.lean) return { kind: "unsent" };
    const { onPut } = await this.settings();
    const { sse, kmsKeyId } = this.options;
    const headers: Record<string, string> = {};
    if (options.contentType !== undefined) headers["content-type"] = options.contentType;
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers["if-none-match"] = options.ifNoneMatch;
    if (sse) headers["x-amz-server-side-encryption"] = sse;
    if (sse === "aws:kms" && kmsKeyId !== undefined) headers["x-amz-server-side-encryption-aws-kms-key-id"] = kmsKeyId;
    if (onPut) Object.assign(headers, { "x-amz-sdk-checksum-algorithm": "CRC32", "x-amz-checksum-crc32": crc32Base64(body) });
    return this.lean.send({ method: "PUT", key, headers, body });
  }

  private async listPage(prefix: string, startAfter: string | undefined, token: string | undefined): Promise<ListPage> {
    const { pageSize } = this.options;
    const query: Record<string, string> = { "list-type": "2", prefix };
    if (startAfter !== undefined) query["start-after"] = startAfter;
    if (token !== undefined) query["continuation-token"] = token;
    if (pageSize !== undefined) query["max-keys"] = String(pageSize);
    const outcome: LeanOutcome = this.lean ? await this.lean.send({ method: "GET", key: "", query }) : { kind: "unsent" };
    const response = answered(outcome);
    const page = response?.status === 200 ? parseListPage(response.body.toString("utf8")) : undefined;
    return page ?? this.sdkListPage(prefix, startAfter, token, outcome);
  }

  private settings(): Promise<ChecksumSettings> {
    return (this.checksums ??= checksumSettings(this.client).catch(() => ({ onPut: true, onGet: true })));
  }

  private async sdkGet(key: string, outcome: LeanOutcome): Promise<StoredObject | undefined> {
    try {
      const command = new GetObjectCommand({ Bucket: this.options.bucket, Key: key });
      replayFirstAttempt(command, outcome);
      const response = await this.client.send(command);
      const body = (await response.Body?.transformToString("utf8")) ?? "";
      return { body, version: response.ETag ?? "" };
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === "NoSuchKey") return undefined;
      throw this.failure(error, "s3:GetObject", key);
    }
  }

  private async sdkPut(key: string, body: string, options: PutOptions, condition: Precondition | undefined, outcome: LeanOutcome): Promise<{ version: string }> {
    const input: PutObjectCommandInput = {
      Bucket: this.options.bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType,
      IfMatch: options.ifMatch,
      IfNoneMatch: options.ifNoneMatch,
      ServerSideEncryption: this.options.sse,
      SSEKMSKeyId: this.options.sse === "aws:kms" ? this.options.kmsKeyId : undefined,
    };
    try {
      const command = new PutObjectCommand(input);
      replayFirstAttempt(command, outcome);
      const response = await this.client.send(command);
      return { version: response.ETag ?? "" };
    } catch (error) {
      if (failedCondition(condition, statusOf(error), (error as Error).name)) throw new PreconditionFailedError(key, condition as Precondition);
      throw this.failure(error, "s3:PutObject", key);
    }
  }

  private async sdkListPage(prefix: string, startAfter: string | undefined, token: string | undefined, outcome: LeanOutcome): Promise<ListPage> {
    try {
      const command = new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, StartAfter: startAfter, ContinuationToken: token, MaxKeys: this.options.pageSize });
      replayFirstAttempt(command, outcome);
      const page = await this.client.send(command);
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
      return { keys, truncated: page.IsTruncated === true, nextToken: page.NextContinuationToken };
    } catch (error) {
      throw this.failure(error, "s3:ListBucket", prefix);
    }
  }

  private failure(error: unknown, action: S3Action, key: string): S3StoreError {
    const { bucket, endpoint, region, requestTimeoutMs, maxAttempts, keyLabel } = this.options;
    const context: FailureContext = { action, bucket, key: keyLabel ? keyLabel(key) : key, endpoint, region, requestTimeoutMs, maxAttempts };
    return new S3StoreError(describeS3Failure(error, context), action, key, { cause: error });
  }
}

/** An ObjectStore on `options.bucket` through `client` (signed requests of its own, the SDK for everything else). */
export function createS3Store(client: S3Client, options: S3StoreOptions): S3ObjectStore {
  return new S3Store(client, options);
}
