import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { definePlugin, RUNTIME_API_VERSION, type Delivery, type Logger, type MetricsDocument, type Settings } from "@resourcemonitor/runtime";
import { latestKey, latestModeFor, logHostListUpdate, normalizePrefix, validateHostname, writeSample, type ObjectStore, type WrittenSample } from "@resourcemonitor/layout";
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
}

/** Writes each document into the layout under one directory. */
class FileSink {
  private readonly dir: string;
  private readonly store: ObjectStore;
  private prefix = "";

  constructor(private readonly options: FileSinkOptions, private readonly settings: Settings, private readonly logger: Logger) {
    this.dir = resolve(options.dir ?? settings.dataDir);
    this.store = createFileStore(this.dir);
  }

  async start(): Promise<void> {
    this.prefix = normalizePrefix(this.options.prefix);
    const host = validateHostname(this.settings.hostname);
    const problem = fileKeyProblem(latestKey(host, this.prefix));
    if (problem) throw new Error(`the file sink cannot store host ${JSON.stringify(host)} under prefix ${JSON.stringify(this.prefix)}: the key ${problem}`);
    await mkdir(this.dir, { recursive: true });
    this.logger.info({ dir: this.dir, prefix: this.prefix }, `file sink writes ${this.prefix}${host}.json, ${this.prefix}history/${host}/ and ${this.prefix}list.json under ${this.dir}`);
  }

  /** Three files a tick, no fsync (see FileStore.writeTemp): the per-tick cost stays a few dozen syscalls. */
  async write(document: MetricsDocument, json: string, delivery?: Delivery): Promise<void> {
    this.report(await writeSample(this.store, document, json, { prefix: this.prefix, latest: latestModeFor(delivery) }));
  }

  private report({ hostList, historyKey }: WrittenSample): void {
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
    },
  },
  apply({ hooks, options, settings, logger }) {
    const sink = new FileSink(options, settings, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => sink.start());
    hooks.emit.tapPromise(PLUGIN_NAME, (document, json, delivery) => sink.write(document, json, delivery));
  },
});
