// setup-config.sh --test: writes a probe object to the configured bucket and reads it back, with the
// agent's own configuration loading (the KEY=VALUE file, then the environment) and the AWS SDK's
// default credential chain. Installed next to the agent as /opt/resourcemonitor/bin/s3-probe.mjs.
//   node s3-probe.mjs --env-file /etc/resourcemonitor/config
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { loadConfig } from "@resourcemonitor/runtime";

const { values } = parseArgs({ options: { "env-file": { type: "string" } } });
const config = await loadConfig({ envFile: values["env-file"], defaultCollectors: [] });
if (!config.bucket) {
  console.error("s3-probe: no S3_BUCKET_NAME in the configuration: nothing to check (the agent writes to a local directory)");
  process.exit(1);
}
for (const [key, value] of Object.entries(config.aws)) process.env[key] ??= value;
const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
const client = new S3Client({ region: config.region, forcePathStyle: endpoint !== undefined });
// One key per host, overwritten each time, so checks never pile up; the agent needs no delete permission.
const key = `${config.prefix ? config.prefix.replace(/\/?$/, "/") : ""}.resourcemonitor/setup-check-${config.hostname || hostname()}`;
const body = JSON.stringify({ checkedAt: new Date().toISOString(), by: "setup-config.sh --test" });
const where = `s3://${config.bucket}/${key}${endpoint ? ` at ${endpoint}` : ` (${config.region})`}`;
try {
  await client.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: "application/json" }));
  const read = await client.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  const text = await read.Body?.transformToString("utf8");
  if (text !== body) throw new Error(`read back ${JSON.stringify(text)}, expected what was written`);
  console.log(`  ok: wrote and read back ${where}`);
} catch (error) {
  const status = error?.$metadata?.httpStatusCode;
  console.error(`s3-probe: ${where}: ${error?.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${error?.message ?? error}`);
  process.exit(1);
}
