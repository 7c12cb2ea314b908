// setup-config.sh --test: writes a probe object to the configured bucket and reads it back, with the
// agent's own configuration loading and the s3 sink's own client, so it fails exactly where the agent
// would. Installed next to the agent as /opt/resourcemonitor/bin/s3-probe.mjs.
//   node s3-probe.mjs --env-file /etc/resourcemonitor/config
import { parseArgs } from "node:util";
import { normalizePrefix } from "@resourcemonitor/layout";
import { loadConfig } from "@resourcemonitor/runtime";
import { createS3Client, createS3Store, resolveOptions } from "@resourcemonitor/sink-s3";

const { values } = parseArgs({ options: { "env-file": { type: "string" } } });
const config = await loadConfig({ envFile: values["env-file"], defaultCollectors: [] });
if (!config.bucket) {
  console.error("s3-probe: no S3_BUCKET_NAME in the configuration: nothing to check (the agent writes to a local directory)");
  process.exit(1);
}
// As the agent does: the file's AWS_* settings reach the SDK unless the real environment has them.
for (const [key, value] of Object.entries(config.aws)) process.env[key] ??= value;
const options = resolveOptions({ bucket: config.bucket, region: config.region, prefix: config.prefix }, process.env);
const store = createS3Store(createS3Client(options), options);
// One key per host, overwritten each time, so checks never pile up and no delete permission is needed.
const key = `${normalizePrefix(options.prefix)}.resourcemonitor/setup-check-${config.hostname}`;
const body = JSON.stringify({ checkedAt: new Date().toISOString(), by: "setup-config.sh --test" });
const where = `s3://${options.bucket}/${key}${options.endpoint ? ` at ${options.endpoint}` : ` (${options.region})`}`;
try {
  await store.put(key, body, { contentType: "application/json" });
  const read = await store.get(key);
  if (read?.body !== body) throw new Error(`read back ${JSON.stringify(read?.body)}, not what was written`);
  console.log(`  ok: wrote and read back ${where}`);
} catch (error) {
  console.error(`s3-probe: ${where}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
