import { startS3Server, type S3TestServer } from "@resourcemonitor/s3-test-server";
import type { ObjectStore } from "@resourcemonitor/layout";
import { openStore } from "../src/index.js";

export const BUCKET = "fleet-metrics";

/** The local S3 server, and the store the dashboard opens on it the way `resourcemonitor dashboard --bucket` does. */
export async function startS3(): Promise<{ server: S3TestServer; store: ObjectStore }> {
  const server = await startS3Server({ buckets: [BUCKET], recordRequests: false });
  const env = {
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_S3: server.endpoint,
    S3_FORCE_PATH_STYLE: "true",
  };
  Object.assign(process.env, env); // the SDK's default credential chain reads the process environment
  return { server, store: await openStore({ bucket: BUCKET, dataDir: "/nonexistent" }, env) };
}
