import type { JsonSchema } from "@resourcemonitor/runtime";
import type { ServerSideEncryption } from "./s3-store.js";

export interface S3SinkOptions {
  /** Bucket name; default S3_BUCKET_NAME. */
  bucket?: string;
  /** Region; default AWS_DEFAULT_REGION, then AWS_REGION, then us-east-1. */
  region?: string;
  /** Key prefix, e.g. `fleet-a` for `fleet-a/list.json`. */
  prefix?: string;
  /** Endpoint of an S3-compatible store; default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Path-style requests (`<endpoint>/<bucket>/<key>`); default S3_FORCE_PATH_STYLE, else false. */
  forcePathStyle?: boolean;
  sse?: ServerSideEncryption;
  kmsKeyId?: string;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  listRefreshSeconds?: number;
  /** Signed requests of the sink's own for the plain answers, the SDK for the rest (default true); false: the SDK for everything. */
  leanRequests?: boolean;
}

/** The options after the environment filled the gaps. */
export interface ResolvedS3Options {
  bucket: string;
  region: string;
  prefix: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  sse: ServerSideEncryption | undefined;
  kmsKeyId: string | undefined;
  requestTimeoutMs: number;
  maxAttempts: number;
  listRefreshSeconds: number;
  leanRequests: boolean;
}

/** Today's rule, widened to the legacy us-east-1 names (capitals, '_', up to 255 characters). */
const BUCKET_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$";

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

export const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    bucket: {
      type: "string",
      pattern: BUCKET_PATTERN,
      description: "The bucket: 3-63 lower-case letters, digits, '.' and '-' (older us-east-1 buckets may also have capitals and '_'). Default: S3_BUCKET_NAME.",
    },
    region: { type: "string", pattern: "^[a-z0-9-]+$", description: "The bucket's region. Default: AWS_DEFAULT_REGION, then AWS_REGION, then us-east-1." },
    prefix: {
      type: "string",
      default: "",
      pattern: String.raw`^(?!/)[^\\\u0000-\u001f\u007f]*$`,
      description: "Key prefix inside the bucket (e.g. \"fleet-a\" puts everything under fleet-a/); '/'-separated names, none empty, '.' or '..'. Default: none.",
    },
    endpoint: {
      type: "string",
      pattern: "^https?://[^\\s/]+(/.*)?$",
      description: "Endpoint of an S3-compatible store (MinIO, Ceph RGW, R2, …), e.g. http://minio:9000. Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else AWS S3.",
    },
    forcePathStyle: { type: "boolean", description: "Address objects as <endpoint>/<bucket>/<key> instead of <bucket>.<endpoint>/<key>, as most S3-compatible stores need. Default: S3_FORCE_PATH_STYLE, else false." },
    sse: { enum: ["AES256", "aws:kms"], description: "Server-side encryption asked for on every upload: AES256 (SSE-S3) or aws:kms (SSE-KMS). Default: the bucket's own setting." },
    kmsKeyId: { type: "string", minLength: 1, description: "KMS key id or ARN for sse aws:kms. Default: the account's aws/s3 key." },
    requestTimeoutMs: { type: "integer", minimum: 100, maximum: 300_000, default: DEFAULT_REQUEST_TIMEOUT_MS, description: "Milliseconds one request may take before it fails (a frozen endpoint included). Default 5000." },
    maxAttempts: { type: "integer", minimum: 1, maximum: 10, default: DEFAULT_MAX_ATTEMPTS, description: "Attempts per request, with the SDK's backoff, before the sample goes to the spool. Default 3." },
    listRefreshSeconds: {
      type: "integer",
      minimum: 0,
      maximum: 240,
      default: 0,
      description: "How often this host rewrites its list.json entry, in seconds; 0 with every upload, as the original agent. A fleet at 1 s intervals sets e.g. 30 (entries expire after 300).",
    },
    leanRequests: {
      type: "boolean",
      default: true,
      description: "Send GetObject, PutObject and ListObjectsV2 as SigV4-signed requests of the sink's own (a seventh of the AWS SDK's CPU per request), leaving errors, retries and credentials to the SDK; false sends every request through the SDK. Default true.",
    },
  },
};

/** A boolean environment variable: true/false/1/0/yes/no, or an error naming the variable. */
function parseBoolean(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const normalized = value.trim().toLowerCase();
  if (["true", "1", "yes"].includes(normalized)) return true;
  if (["false", "0", "no"].includes(normalized)) return false;
  throw new Error(`environment variable ${name}=${JSON.stringify(value)}: expected true or false`);
}

const nonEmpty = (...values: (string | undefined)[]) => values.find((value) => value !== undefined && value !== "");

/** Fills what the options leave out from the environment, as the original agent's variables and the AWS SDK's do. */
export function resolveOptions(options: S3SinkOptions, env: Record<string, string | undefined>): ResolvedS3Options {
  const bucket = nonEmpty(options.bucket, env.S3_BUCKET_NAME);
  if (!bucket) throw new Error("the s3 sink has no bucket: set S3_BUCKET_NAME (in /etc/resourcemonitor/config or the environment) or the sink's bucket option");
  if (!new RegExp(BUCKET_PATTERN).test(bucket)) throw new Error(`S3_BUCKET_NAME ${JSON.stringify(bucket)} is no bucket name: 3-63 letters, digits, '.', '-' (and '_' in old buckets)`);
  return {
    bucket,
    region: nonEmpty(options.region, env.AWS_DEFAULT_REGION, env.AWS_REGION) ?? "us-east-1",
    prefix: options.prefix ?? "",
    endpoint: nonEmpty(options.endpoint, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL),
    forcePathStyle: options.forcePathStyle ?? parseBoolean("S3_FORCE_PATH_STYLE", env.S3_FORCE_PATH_STYLE) ?? false,
    sse: options.sse,
    kmsKeyId: options.kmsKeyId,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    listRefreshSeconds: options.listRefreshSeconds ?? 0,
    leanRequests: options.leanRequests ?? true,
  };
}
