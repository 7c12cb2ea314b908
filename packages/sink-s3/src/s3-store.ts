import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException, type PutObjectCommandInput, type S3Client } from "@aws-sdk/client-s3";
import { PreconditionFailedError, type ListOptions, type ObjectStore, type PutOptions, type StoredObject } from "@resourcemonitor/layout";
import { describeS3Failure, type S3Action, type FailureContext } from "./errors.js";

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

/** An ObjectStore on one S3 bucket: versions are ETags, conditions are `If-Match` / `If-None-Match`. */
class S3Store implements ObjectStore {
  readonly description: string;

  constructor(private readonly client: S3Client, private readonly options: S3StoreOptions) {
    this.description = `s3://${options.bucket}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      const body = (await response.Body?.transformToString("utf8")) ?? "";
      return { body, version: response.ETag ?? "" };
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === "NoSuchKey") return undefined;
      throw this.failure(error, "s3:GetObject", key);
    }
  }

  async put(key: string, body: string, options: PutOptions = {}): Promise<{ version: string }> {
    if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) throw new TypeError("put: give ifMatch or ifNoneMatch, not both");
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
      const response = await this.client.send(new PutObjectCommand(input));
      return { version: response.ETag ?? "" };
    } catch (error) {
      const condition = options.ifMatch !== undefined ? "ifMatch" : options.ifNoneMatch !== undefined ? "ifNoneMatch" : undefined;
      // 412: the condition failed; 409: a concurrent conditional write won (ConditionalRequestConflict); 404: If-Match on a missing key.
      const status = statusOf(error);
      if (condition && (status === 412 || status === 409 || (status === 404 && condition === "ifMatch" && (error as Error).name === "NoSuchKey"))) {
        throw new PreconditionFailedError(key, condition);
      }
      throw this.failure(error, "s3:PutObject", key);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: prefix,
          StartAfter: token === undefined ? options.startAfter : undefined,
          ContinuationToken: token,
          MaxKeys: this.options.pageSize,
        }));
      } catch (error) {
        throw this.failure(error, "s3:ListBucket", prefix);
      }
      for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private failure(error: unknown, action: S3Action, key: string): S3StoreError {
    const { bucket, endpoint, region, requestTimeoutMs, maxAttempts, keyLabel } = this.options;
    const context: FailureContext = { action, bucket, key: keyLabel ? keyLabel(key) : key, endpoint, region, requestTimeoutMs, maxAttempts };
    return new S3StoreError(describeS3Failure(error, context), action, key, { cause: error });
  }
}

/** An ObjectStore on `options.bucket` through `client`. */
export function createS3Store(client: S3Client, options: S3StoreOptions): ObjectStore {
  return new S3Store(client, options);
}
