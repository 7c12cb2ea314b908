import type { Writable } from "node:stream";
import { definePlugin, RUNTIME_API_VERSION, type Logger, type PluginDefinition } from "@resourcemonitor/runtime";

const PLUGIN_NAME = "stdout";

/** The sink as a plain object: one line per document on a stream. */
export interface StdoutSink {
  write(json: string): Promise<void>;
  /** Resolves once everything written has been handed to the operating system. */
  flush(): Promise<void>;
}

/**
 * Writes each document as one line. A reader that stops reading (a full pipe) makes writes wait, not pile up
 * in memory; a reader that went away (EPIPE) makes them fail, so the runtime counts and reports the loss.
 */
export function createStdoutSink(stream: Writable, logger?: Logger): StdoutSink {
  let broken: Error | undefined;
  const fail = (error: Error) => {
    if (!broken) logger?.error({ err: error }, `standard output failed: ${error.message}; documents are not written`);
    broken ??= error;
    return broken;
  };
  stream.on("error", fail);
  const drained = () => new Promise<void>((resolve) => (stream.writableNeedDrain ? stream.once("drain", resolve) : resolve()));
  return {
    async write(json) {
      if (broken) throw broken;
      await drained();
      await new Promise<void>((resolve, reject) => stream.write(`${json}\n`, (error) => (error ? reject(fail(error)) : resolve())));
    },
    flush: drained,
  };
}

/** The plugin for a given stream; the default export writes to the process's standard output. */
export function stdoutSinkPlugin(stream: Writable): PluginDefinition<Record<string, never>> {
  return definePlugin<Record<string, never>>({
    apiVersion: RUNTIME_API_VERSION,
    name: PLUGIN_NAME,
    kind: "sink",
    version: "0.1.0",
    description: "Writes each document as one line of JSON on standard output, for Vector, Fluent Bit, jq or a log shipper.",
    optionsSchema: { type: "object", additionalProperties: false, properties: {} },
    apply({ hooks, logger }) {
      const sink = createStdoutSink(stream, logger);
      hooks.emit.tapPromise(PLUGIN_NAME, (_document, json) => sink.write(json));
      hooks.stop.tapPromise(PLUGIN_NAME, () => sink.flush());
    },
  });
}

export default stdoutSinkPlugin(process.stdout);
