import type { ObjectStore } from "@resourcemonitor/layout";
import { createFileStore } from "@resourcemonitor/sink-file";

export interface StoreConfig {
  /** S3 bucket; without one the store is `dataDir`. */
  bucket?: string;
  region?: string;
  /** The local directory the file sink writes when no bucket is set. */
  dataDir: string;
}

/**
 * The store the agents write, opened the way their sinks open it: the s3 sink's client (endpoint,
 * path style and credentials from the environment, as the agent reads them) or the file sink's directory.
 */
export async function openStore(config: StoreConfig, env: Record<string, string | undefined> = process.env): Promise<ObjectStore> {
  if (!config.bucket) return createFileStore(config.dataDir);
  // Loaded only here: the AWS SDK is large, and a directory needs none of it.
  const { createS3Client, createS3Store, resolveOptions } = await import("@resourcemonitor/sink-s3");
  const resolved = resolveOptions({ bucket: config.bucket, region: config.region }, env);
  return createS3Store(createS3Client(resolved), {
    bucket: resolved.bucket,
    endpoint: resolved.endpoint,
    region: resolved.region,
    requestTimeoutMs: resolved.requestTimeoutMs,
    maxAttempts: resolved.maxAttempts,
  });
}
