import { setTimeout as sleep } from "node:timers/promises";
import { definePlugin, PluginOptionsError, RUNTIME_API_VERSION, type JsonSchema, type Logger } from "@resourcemonitor/runtime";

const PLUGIN_NAME = "http";

export interface HttpSinkOptions {
  url: string;
  method: "POST" | "PUT";
  /** Sent with every request; values are secrets (tokens) and never logged. */
  headers: Record<string, string>;
  /** Seconds one request may take. */
  requestTimeout: number;
  /** Further attempts after a failed one (network error, timeout, 408, 429, 5xx). */
  retries: number;
  /** Seconds before the first retry; doubles for each further one, at most 30 s. */
  retryDelay: number;
}

/** The sink as a plain object. */
export interface HttpSink {
  /** Delivers one document, retrying; throws when every attempt failed so the runtime can keep it for later. */
  write(json: string, signal?: AbortSignal): Promise<void>;
  /** Aborts requests and retry waits in flight. */
  stop(): void;
}

const MAX_RETRY_DELAY_MS = 30_000;

/** Failures worth another attempt: the server or the path to it may recover. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Where requests go, for logs and errors: no credentials in the user part, no query string (tokens often live there). */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

class AttemptError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

/** fetch refuses URLs with credentials: `https://user:pass@host/` becomes the URL without them and a Basic authorization header. */
function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.href, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

export function createHttpSink(options: HttpSinkOptions, logger: Logger): HttpSink {
  const target = `${options.method} ${describeUrl(options.url)}`;
  const stopping = new AbortController();
  const { url, authorization } = splitCredentials(options.url);
  const configured = new Set(Object.keys(options.headers).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = {
    ...(!configured.has("content-type") && { "content-type": "application/json" }),
    ...(authorization && !configured.has("authorization") && { authorization }),
    ...options.headers,
  };

  async function attempt(body: string, signal: AbortSignal): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, { method: options.method, headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeout * 1000)]) });
    } catch (error) {
      const cause = (error as Error).name === "TimeoutError" ? `no answer within ${options.requestTimeout} s` : `${(error as Error).message}${causeOf(error)}`;
      throw new AttemptError(cause, !signal.aborted);
    }
    // Read the body either way so the connection can be reused; show a little of it on failure.
    const text = await response.text().catch(() => "");
    if (response.ok) return;
    throw new AttemptError(`HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`, retryable(response.status));
  }

  return {
    async write(json, signal) {
      const aborted = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
      for (let tried = 0; ; tried += 1) {
        try {
          await attempt(json, aborted);
          if (tried > 0) logger.info({ attempts: tried + 1 }, `${target} delivered after ${tried + 1} attempts`);
          return;
        } catch (error) {
          const { message, retry } = error as AttemptError;
          if (!retry || tried >= options.retries || aborted.aborted) {
            throw new Error(`${target}: ${message} (attempt ${tried + 1} of ${options.retries + 1}${retry ? "" : ", not retried"})`, { cause: error });
          }
          const delay = Math.min(MAX_RETRY_DELAY_MS, options.retryDelay * 1000 * 2 ** tried);
          logger.debug({ attempt: tried + 1, delayMs: delay }, `${target}: ${message}; retrying in ${delay} ms`);
          await sleep(delay, undefined, { signal: aborted }).catch(() => undefined);
          if (aborted.aborted) throw new Error(`${target}: ${message} (attempt ${tried + 1} of ${options.retries + 1}, stopped before the next)`, { cause: error });
        }
      }
    },
    stop: () => stopping.abort(),
  };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause ? ` (${cause.code ?? cause.message ?? "unknown cause"})` : "";
}

const OPTIONS_SCHEMA: JsonSchema = {
  type: "object",
  required: ["url"],
  additionalProperties: false,
  properties: {
    url: { type: "string", pattern: "^https?://", description: "Where each document is sent, http:// or https://. A token in the query string or user part is kept out of logs." },
    method: { enum: ["POST", "PUT"], default: "POST", description: "HTTP method. Default POST." },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      default: {},
      description: "Request headers, e.g. { authorization: \"Bearer …\" }. Values are treated as secrets: never logged, redacted by `resourcemonitor config`.",
    },
    requestTimeout: { type: "number", exclusiveMinimum: 0, default: 5, description: "Seconds one request may take before it counts as failed. Default 5." },
    retries: { type: "integer", minimum: 0, maximum: 10, default: 3, description: "Further attempts after a network error, timeout, 408, 429 or 5xx. Default 3." },
    retryDelay: { type: "number", minimum: 0, default: 0.5, description: "Seconds before the first retry; doubles for each further one, at most 30. Default 0.5." },
  },
};

export default definePlugin<HttpSinkOptions>({
  apiVersion: RUNTIME_API_VERSION,
  name: PLUGIN_NAME,
  kind: "sink",
  version: "0.1.0",
  description: "POSTs each document as JSON to a URL (webhook, ingestion endpoint) with configured headers, a timeout and retries with backoff.",
  optionsSchema: OPTIONS_SCHEMA,
  apply({ hooks, options, logger }) {
    try {
      describeUrl(options.url);
    } catch {
      throw new PluginOptionsError(PLUGIN_NAME, [`$.url: not a valid URL`]);
    }
    const sink = createHttpSink(options, logger);
    hooks.start.tap(PLUGIN_NAME, () => logger.info({ url: describeUrl(options.url), headers: Object.keys(options.headers) }, `http sink sends each document to ${options.method} ${describeUrl(options.url)}`));
    hooks.emit.tapPromise(PLUGIN_NAME, (_document, json, delivery?: { signal?: AbortSignal }) => sink.write(json, delivery?.signal));
    hooks.stop.tap(PLUGIN_NAME, () => sink.stop());
  },
});
