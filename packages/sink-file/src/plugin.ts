import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { definePlugin, RUNTIME_API_VERSION, type Delivery, type Logger, type MetricsDocument, type Settings } from "@resourcemonitor/runtime";
import { createSampleWriter, latestKey, latestModeFor, logHostListUpdate, normalizePrefix, validateHostname, type ObjectStore, type SampleWriter, type WrittenTick } from "@resourcemonitor/layout";
import { createFileStore, fileKeyProblem } from "./file-store.js";

const PLUGIN_NAME = "file";

/** A prefix segment: no slash, backslash or control character, and not starting with '.' (hidden names are the store's own). */
const SEGMENT = String.raw`[^/.\\\u0000-\u001f\u007f][^/\\\u0000-\u001f\u007f]*`;
const PREFIX_PATTERN = `^(?:${SEGMENT}(?:/${SEGMENT})*/?)?$`;

export interface FileSinkOptions {
  /** The store's directory; default: the agent's `dataDir`. */
  dir?: string;
  /** Key prefix inside the directory, e.g. `fleet-a` for `fleet-a/list.json`. */
  prefix?: string;
  /** How often this host rewrites its list.json entry, in seconds; 0 (default) with every sample. */
  listRefreshSeconds?: number;
}

/** Writes each document into the layout under one directory. */
class FileSink {
  private readonly dir: string;
  private readonly store: ObjectStore;
  private writer: SampleWriter | undefined;

  constructor(private readonly options: FileSinkOptions, private readonly settings: Settings, private readonly logger: Logger) {
    this.dir = resolve(options.dir ?? settings.dataDir);
    this.store = createFileStore(this.dir);
  }

  async start(): Promise<void> {
    const prefix = normalizePrefix(this.options.prefix);
    const host = validateHostname(this.settings.hostname);
    const problem = fileKeyProblem(latestKey(host, prefix));
    if (problem) throw new Error(`the file sink cannot store host ${JSON.stringify(host)} under prefix ${JSON.stringify(prefix)}: the key ${problem}`);
    await mkdir(this.dir, { recursive: true });
    const listRefreshMs = (this.options.listRefreshSeconds ?? 0) * 1000;
    this.writer = createSampleWriter(this.store, { prefix, listRefreshMs, logger: this.logger });
    this.logger.info({ dir: this.dir, prefix }, `file sink writes ${prefix}${host}.json, ${prefix}history/${host}/ and ${prefix}list.json under ${this.dir}`);
  }

  /** Stops the background list.json refreshes (with listRefreshSeconds), letting one under way finish. */
  async stop(): Promise<void> {
    await this.writer?.close();
  }

  /** Three files a tick, no fsync (see FileStore.writeTemp): the per-tick cost stays a few dozen syscalls. */
  async write(document: MetricsDocument, json: string, delivery?: Delivery): Promise<void> {
    if (!this.writer) throw new Error("the file sink was not started");
    this.report(await this.writer.write(document, json, undefined, latestModeFor(delivery)));
  }

  private report({ hostList, historyKey }: WrittenTick): void {
    this.logger.trace({ historyKey }, "sample written");
    logHostListUpdate(this.logger, hostList);
  }
}

export default definePlugin<FileSinkOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "sink",
  version: "0.1.0",
  description: "Writes <host>.json, history/<host>/<time>.json and list.json into a local directory.",
  optionsSchema: {
    type: "object",
    additionalProperties: false,
    properties: {
      dir: {
        type: "string",
        minLength: 1,
        description: "Directory of the store, created if missing; relative paths are resolved against the working directory. Default: the agent's dataDir.",
      },
      prefix: {
        type: "string",
        default: "",
        pattern: PREFIX_PATTERN,
        description: "Key prefix inside the directory, as in the S3 sink (e.g. \"fleet-a\" puts everything under fleet-a/); '/'-separated names, none empty or starting with '.'. Default: none.",
      },
      listRefreshSeconds: {
        type: "integer",
        minimum: 0,
        maximum: 240,
        default: 0,
        description: "How often this host rewrites its list.json entry, in seconds; 0 with every sample, as the original agent. Above 0: listed with its first sample, then refreshed in the background within the period (entries expire after 300 s), as in the S3 sink. Default 0.",
      },
    },
  },
  apply({ hooks, options, settings, logger }) {
    const sink = new FileSink(options, settings, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => sink.start());
    hooks.emit.tapPromise(PLUGIN_NAME, (document, json, delivery) => sink.write(document, json, delivery));
    hooks.stop.tapPromise(PLUGIN_NAME, () => sink.stop());
  },
});
