import { S3Client } from "@aws-sdk/client-s3";
import type { ObjectStore } from "@resourcemonitor/layout";
import { createHooks, type Delivery, type MetricsDocument } from "@resourcemonitor/runtime";
import { captureLogger, testSettings } from "@resourcemonitor/runtime/testing";
import { startS3Server, type S3ServerOptions, type S3TestServer } from "@resourcemonitor/s3-test-server";
import s3Sink, { createS3Store } from "../src/index.js";

export const BUCKET = "monitoring-bucket";
export const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** Credentials for the SDK's default chain (the environment), with a secret that must never reach a log line. */
export function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  for (const name of ["S3_BUCKET_NAME", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "S3_FORCE_PATH_STYLE", "AWS_PROFILE"]) Reflect.deleteProperty(process.env, name);
}

/** Every credential these tests sign with: the server checks each request's signature against them. */
export const SIGNING_KEYS = { AKIAIOSFODNN7EXAMPLE: SECRET, reader: "reader" };

export async function startServer(options: S3ServerOptions = {}): Promise<S3TestServer> {
  return startS3Server({ buckets: [BUCKET], signatures: SIGNING_KEYS, ...options });
}

/** An S3 client of the test's own, to read back what the sink wrote. */
export function readerClient(server: S3TestServer): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "reader", secretAccessKey: "reader" } });
}

/** A store on `bucket` with tiny ListObjectsV2 pages, so reading back paginates. */
export function readerStore(server: S3TestServer, bucket = BUCKET): ObjectStore {
  return createS3Store(readerClient(server), { bucket, pageSize: 2 });
}

export const documentAt = (timestamp: string, hostname = "server01", extra: Record<string, unknown> = {}): MetricsDocument => ({
  timestamp,
  hostname,
  cpu: { usage_percent: 25.4, usage_per_core: [20.1, 30.7], count_logical: 2, count_physical: 1 },
  memory: { virtual: { total: 16777216000, available: 8388608000, used: 8388608000, percent: 50, free: 8388608000 } },
  gpu: [],
  ...extra,
});

/**
 * The s3 plugin applied to bare hooks, as the runtime applies it but without its retries and spool: a failed
 * write rejects, so a test sees the sink's own error.
 */
export interface BareSink {
  lines: ReturnType<typeof captureLogger>["lines"];
  start(): Promise<void>;
  write(document: MetricsDocument, delivery?: Delivery): Promise<void>;
  stop(): Promise<void>;
}

export function bareSink(server: S3TestServer, options: Record<string, unknown> = {}, hostname = "server01"): BareSink {
  const hooks = createHooks();
  const { logger, lines } = captureLogger();
  s3Sink.apply({
    hooks,
    options: { bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true, requestTimeoutMs: 2000, maxAttempts: 1, ...options },
    settings: testSettings({ hostname }),
    logger,
  });
  return {
    lines,
    start: () => hooks.start.promise(),
    write: (document, delivery = { replay: false, latest: true, signal: new AbortController().signal }) => hooks.emit.promise(document, JSON.stringify(document), delivery),
    stop: () => hooks.stop.promise(),
  };
}
