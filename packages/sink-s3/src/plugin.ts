import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { definePlugin, RUNTIME_API_VERSION, type Delivery, type Logger, type MetricsDocument, type Settings } from "@resourcemonitor/runtime";
import {
  createSampleWriter,
  historyPrefix,
  isPreconditionFailed,
  latestModeFor,
  listKey,
  logHostListUpdate,
  normalizePrefix,
  probeKey,
  validateHostname,
  type ObjectStore,
  type SampleWriter,
  type WrittenTick,
} from "@resourcemonitor/layout";
import { OPTIONS_SCHEMA, resolveOptions, type ResolvedS3Options, type S3SinkOptions } from "./options.js";
import { createS3Store, type S3ObjectStore } from "./s3-store.js";

const PLUGIN_NAME = "s3";

/** The S3 client every request goes through: credentials from the SDK's default chain only. */
export function createS3Client(options: ResolvedS3Options): S3Client {
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: options.maxAttempts,
    // requestTimeout alone only logs a warning: throwOnRequestTimeout makes a frozen endpoint fail.
    requestHandler: new NodeHttpHandler({ connectionTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true }),
  });
}

/** Whether a store honours `If-None-Match: *`: a create-only PUT of the host's probe key, twice; the second must fail. */
export async function honoursConditionalWrites(store: ObjectStore, key: string, body: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await store.put(key, body, { ifNoneMatch: "*", contentType: "application/json" });
    } catch (error) {
      if (isPreconditionFailed(error)) return true;
      throw error;
    }
  }
  return false;
}

/** Writes each document into the layout in one bucket. */
class S3Sink {
  private resolved: ResolvedS3Options | undefined;
  private client: S3Client | undefined;
  private store: S3ObjectStore | undefined;
  private writer: SampleWriter | undefined;

  constructor(private readonly options: S3SinkOptions, private readonly settings: Settings, private readonly logger: Logger) {}

  /** Checks the configuration (errors stop the agent) and probes the store (errors are retried at the first upload). */
  async start(): Promise<void> {
    const resolved = resolveOptions(this.options, process.env);
    normalizePrefix(resolved.prefix);
    validateHostname(this.settings.hostname);
    this.resolved = resolved;
    this.client = createS3Client(resolved);
    this.store = createS3Store(this.client, { ...resolved, lean: resolved.leanRequests, keyLabel: (key) => this.keyLabel(key) });
    try {
      await this.probe();
    } catch (error) {
      this.logger.warn(`cannot probe ${this.where()} yet, will try again at the first upload: ${(error as Error).message}`);
    }
  }

  async write(document: MetricsDocument, json: string, delivery?: Delivery): Promise<void> {
    const writer = this.writer ?? (await this.probe());
    this.report(await writer.write(document, json, undefined, latestModeFor(delivery)));
  }

  stop(): void {
    // Stops the background list.json refreshes at once; one under way fails with the client and is not retried.
    void this.writer?.close();
    this.store?.destroy();
    this.client?.destroy();
  }

  private async probe(): Promise<SampleWriter> {
    const { resolved, store } = this.ready();
    const host = this.settings.hostname;
    const probe = JSON.stringify({ hostname: host, probed: new Date().toISOString(), note: "resourcemonitor checks here whether the store honours conditional writes" });
    const conditional = await honoursConditionalWrites(store, probeKey(host, resolved.prefix), probe);
    if (conditional) {
      this.logger.info({ bucket: resolved.bucket, prefix: resolved.prefix, mode: "conditional" }, `s3 sink writes to ${this.where()}; the store honours conditional writes: list.json is updated with compare-and-swap (If-Match), history with If-None-Match`);
    } else {
      this.logger.warn({ bucket: resolved.bucket, prefix: resolved.prefix, mode: "verify" }, `s3 sink writes to ${this.where()}; the store ignores conditional writes (If-None-Match): falling back to read-after-write verification of history keys and list.json`);
    }
    this.writer = createSampleWriter(store, { prefix: resolved.prefix, listRefreshMs: resolved.listRefreshSeconds * 1000, verifyWrites: !conditional, logger: this.logger });
    return this.writer;
  }

  private ready(): { resolved: ResolvedS3Options; store: ObjectStore } {
    if (!this.resolved || !this.store) throw new Error("the s3 sink was not started");
    return { resolved: this.resolved, store: this.store };
  }

  private where(): string {
    const { resolved } = this.ready();
    return `s3://${resolved.bucket}/${normalizePrefix(resolved.prefix)}${resolved.endpoint ? ` at ${resolved.endpoint}` : ` (${resolved.region})`}`;
  }

  /** History and corrupt-copy keys change every tick: errors name their folder, so one message fits every tick. */
  private keyLabel(key: string): string {
    const { prefix } = this.ready().resolved;
    const history = historyPrefix(this.settings.hostname, prefix);
    if (key.startsWith(history)) return `${history}*`;
    const corrupt = `${listKey(prefix)}.corrupt-`;
    return key.startsWith(corrupt) ? `${corrupt}*` : key;
  }

  private report({ hostList }: WrittenTick): void {
    logHostListUpdate(this.logger, hostList);
  }
}

export type { S3SinkOptions };

export default definePlugin<S3SinkOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "sink",
  version: "0.1.0",
  description: "Writes <host>.json, history/<host>/<time>.json and list.json into an S3 or S3-compatible bucket.",
  optionsSchema: OPTIONS_SCHEMA,
  apply({ hooks, options, settings, logger }) {
    const sink = new S3Sink(options, settings, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => sink.start());
    hooks.emit.tapPromise(PLUGIN_NAME, (document, json, delivery) => sink.write(document, json, delivery));
    hooks.stop.tapPromise(PLUGIN_NAME, async () => sink.stop());
  },
});
