import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { definePlugin, RUNTIME_API_VERSION, type JsonSchema, type Logger, type MetricsDocument } from "@resourcemonitor/runtime";
import { DocumentMetrics } from "./mapping.js";

export { DocumentMetrics, METRICS } from "./mapping.js";

const PLUGIN_NAME = "prometheus";

export interface PrometheusSinkOptions {
  host: string;
  port: number;
  path: string;
}

/** The sink as a plain object: an HTTP server that answers scrapes with the latest document's metrics. */
export interface PrometheusSink {
  start(): Promise<void>;
  update(document: MetricsDocument): void;
  stop(): Promise<void>;
  /** Where it listens, once started. */
  address(): AddressInfo | undefined;
}

export function createPrometheusSink(options: PrometheusSinkOptions, logger: Logger): PrometheusSink {
  const metrics = new DocumentMetrics();
  let server: Server | undefined;
  const answer = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== options.path) return void response.writeHead(404, { "content-type": "text/plain" }).end(`not found; metrics are at ${options.path}\n`);
    if (request.method !== "GET" && request.method !== "HEAD") return void response.writeHead(405, { allow: "GET, HEAD" }).end();
    metrics.text().then(
      (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(request.method === "HEAD" ? undefined : text),
      (error: Error) => response.writeHead(500).end(`${error.message}\n`),
    );
  });
  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        answer.once("error", (error: NodeJS.ErrnoException) =>
          reject(new Error(`the prometheus sink cannot listen on ${options.host}:${options.port}: ${error.code === "EADDRINUSE" ? "the port is in use (set another with port:)" : error.message}`)),
        );
        answer.listen(options.port, options.host, () => resolve());
      });
      server = answer;
      const { address, port } = answer.address() as AddressInfo;
      logger.info({ address, port, path: options.path }, `prometheus sink serves http://${address}:${port}${options.path}`);
    },
    update: (document) => metrics.update(document),
    async stop() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    },
    address: () => (server?.address() as AddressInfo | null) ?? undefined,
  };
}

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    host: {
      type: "string",
      minLength: 1,
      default: "127.0.0.1",
      description: "Address the /metrics endpoint listens on. Default 127.0.0.1 (this machine only); 0.0.0.0 or :: to let a Prometheus server elsewhere scrape it.",
    },
    port: { type: "integer", minimum: 0, maximum: 65535, default: 9882, description: "TCP port of the endpoint. Default 9882; 0 picks a free one (logged at start)." },
    path: { type: "string", pattern: "^/", default: "/metrics", description: "URL path of the endpoint. Default /metrics." },
  },
};

export default definePlugin<PrometheusSinkOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "sink",
  version: "0.1.0",
  description: "Serves the latest document as Prometheus metrics (text format) on /metrics, for Prometheus and Grafana to scrape.",
  optionsSchema: OPTIONS_SCHEMA,
  apply({ hooks, options, logger }) {
    const sink = createPrometheusSink(options, logger);
    hooks.start.tapPromise(PLUGIN_NAME, () => sink.start());
    // A replayed document that is not the newest must not move the scrape view back in time.
    hooks.emit.tap(PLUGIN_NAME, (document, _json, delivery?: { latest?: boolean }) => {
      if (delivery?.latest !== false) sink.update(document);
    });
    hooks.stop.tapPromise(PLUGIN_NAME, () => sink.stop());
  },
});
