import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { constants as zlibConstants, gzipSync } from "node:zlib";
import { hostnameProblem, latestKey, normalizePrefix, type ObjectStore } from "@resourcemonitor/layout";
import { RANGES, type ErrorResponse, type FleetResponse } from "./api-types.js";
import { readFleet, type FleetOptions } from "./fleet.js";
import { createHistoryCache, createKeyIndexCache, createRunCache, readHistoryJson, type HistoryOptions } from "./history.js";
import { defaultPublicDir, loadStaticFiles, type StaticFile } from "./static-files.js";
import { describeStoreError, StoreHealth, type DashboardLogger } from "./store-errors.js";

export interface DashboardOptions {
  /** Where the agents write: a file store, an S3 store, any `ObjectStore`. Only read. */
  store: ObjectStore;
  /** Key prefix inside the store (default `""`). */
  prefix?: string;
  /** Address to bind (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port (default 8787; 0 picks a free one). */
  port?: number;
  /** The agents' sampling interval in seconds: the page refreshes at it (default 60). */
  intervalSeconds?: number;
  /** A host not seen for longer than this is marked stale (default 3 intervals, at least 30 s). */
  staleAfterSeconds?: number;
  /** Store reads in flight at most per request (default 32). */
  concurrency?: number;
  /** Bytes of history summaries kept in memory (default 64 MiB; a quarter more each for listed keys and for answers kept as text). */
  cacheBytes?: number;
  /** Samples per history answer at most, whatever `points` asks; a longer range is thinned to one per step (default 3600). */
  maxPoints?: number;
  logger?: DashboardLogger;
  /** The built page (default: this package's dist/public). */
  publicDir?: string;
}

export interface Dashboard {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A range whose end is this much in the past is final: an agent's spool replays within it. */
const CLOSED_AFTER_MS = 15 * 60_000;
const MAX_RANGE_MS = 31 * 24 * 3600_000;
const SHORT_CACHE = "public, max-age=1";
const IMMUTABLE = "public, max-age=31536000, immutable";
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
};

class HttpError extends Error {
  constructor(readonly status: number, readonly body: ErrorResponse) {
    super(body.error.message);
  }
}

function badRequest(message: string, hint = "See the dashboard README for the API."): HttpError {
  return new HttpError(400, { error: { code: "bad-request", message, hint } });
}

/** Answers at least this long are gzipped for a client that accepts it (an hour of history is ~160 KB). */
const COMPRESS_FROM_BYTES = 8192;

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, cache: string, head: boolean): void {
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, "Content-Type": type, "Cache-Control": cache };
  let bytes = typeof body === "string" ? Buffer.from(body) : body;
  if (type.startsWith("application/json")) {
    headers.Vary = "Accept-Encoding";
    if (bytes.length >= COMPRESS_FROM_BYTES && /\bgzip\b/.test(String(response.req?.headers["accept-encoding"] ?? ""))) {
      bytes = gzipSync(bytes, { level: zlibConstants.Z_BEST_SPEED });
      headers["Content-Encoding"] = "gzip";
    }
  }
  headers["Content-Length"] = bytes.length;
  response.writeHead(status, headers);
  response.end(head ? undefined : bytes);
}

function sendJson(response: ServerResponse, status: number, value: unknown, cache: string, head: boolean): void {
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value), cache, head);
}

function parseTime(value: string, name: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw badRequest(`${name}=${JSON.stringify(value)} is not a time`, "Give an ISO-8601 time such as 2025-08-05T14:30:22Z.");
  return time;
}

/** `range=15m|1h|6h|24h` (ending now), or `from` and optional `to` (ISO-8601). */
function rangeOf(query: URLSearchParams, now: number): { from: Date; to: Date } {
  const range = query.get("range");
  if (range !== null) {
    const seconds = (RANGES as Record<string, number>)[range];
    if (seconds === undefined) throw badRequest(`range=${JSON.stringify(range)} is not one of ${Object.keys(RANGES).join(", ")}`);
    return { from: new Date(now - seconds * 1000), to: new Date(now) };
  }
  const fromText = query.get("from");
  if (fromText === null) throw badRequest("history needs range=15m|1h|6h|24h, or from=<ISO time> and optionally to=<ISO time>");
  const from = parseTime(fromText, "from");
  const toText = query.get("to");
  const to = toText === null ? new Date(now) : parseTime(toText, "to");
  if (to.getTime() <= from.getTime()) throw badRequest("to must be after from");
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw badRequest("a history range may span 31 days at most");
  return { from, to };
}

/** `points=N`: the most samples the caller wants (a chart needs about one per pixel); default: the server's maximum. */
function pointsOf(query: URLSearchParams): number | undefined {
  const text = query.get("points");
  if (text === null) return undefined;
  const points = Number(text);
  if (!/^\d+$/.test(text) || points < 2) throw badRequest(`points=${JSON.stringify(text)} is not a whole number of at least 2`);
  return points;
}

/** `latest=1`: the history answer also carries the host's latest document. */
function latestOf(query: URLSearchParams): boolean {
  const text = query.get("latest");
  if (text === null) return false;
  if (text !== "1") throw badRequest(`latest=${JSON.stringify(text)} is not 1`, "Give latest=1 to have the host's latest document in the answer, or leave it out.");
  return true;
}

function hostOf(encoded: string): string {
  let host: string;
  try {
    host = decodeURIComponent(encoded);
  } catch {
    throw badRequest(`host ${JSON.stringify(encoded)} is not valid URL encoding`);
  }
  const problem = hostnameProblem(host);
  if (problem) throw badRequest(`host ${JSON.stringify(host)} ${problem}`);
  return host;
}

/** The read-only HTTP face of one store: the page, `/api/hosts`, `/api/hosts/<host>/latest`, `/api/hosts/<host>/history`. */
class DashboardHandler {
  private readonly fleetOptions: FleetOptions;
  private readonly historyOptions: HistoryOptions;
  private readonly health: StoreHealth;
  private readonly files: Map<string, StaticFile> | undefined;
  /** One store scan serves every page that asks while it runs. */
  private fleetInFlight: Promise<FleetResponse> | undefined;

  constructor(
    private readonly options: DashboardOptions,
    private readonly logger: DashboardLogger,
  ) {
    const intervalSeconds = options.intervalSeconds ?? 60;
    const view = { store: options.store, prefix: normalizePrefix(options.prefix), concurrency: options.concurrency ?? 32 };
    this.fleetOptions = { ...view, intervalSeconds, staleAfterSeconds: options.staleAfterSeconds ?? Math.max(3 * intervalSeconds, 30) };
    const cacheBytes = options.cacheBytes ?? 64 * 1024 * 1024;
    this.historyOptions = {
      ...this.fleetOptions,
      cache: createHistoryCache(cacheBytes),
      keyIndex: createKeyIndexCache(Math.ceil(cacheBytes / 4)),
      runs: createRunCache(Math.ceil(cacheBytes / 4)),
      maxPoints: options.maxPoints ?? 3600,
    };
    this.health = new StoreHealth(logger);
    const publicDir = options.publicDir ?? defaultPublicDir();
    this.files = loadStaticFiles(publicDir);
    if (!this.files) logger.warn(`the page is not built (no ${publicDir}/index.html): run "npm run build -w @resourcemonitor/dashboard"; the API works without it`);
  }

  /**
   * The fleet, read once at start-up: a store that cannot be read is in the log before anyone opens the
   * page, and the first page does not pay the client's one-time set-up and warm-up.
   */
  async probe(): Promise<void> {
    try {
      const fleet = await this.fleet();
      const stale = fleet.hosts.filter((host) => host.stale).length;
      this.logger.info(`store ${fleet.store} readable: ${fleet.hosts.length} hosts, ${stale} stale, list.json ${fleet.list}`);
    } catch (error) {
      this.health.failed(describeStoreError(error, this.options.store.description));
    }
  }

  async handle(request: IncomingMessage, response: ServerResponse, loopbackOnly: boolean): Promise<void> {
    const head = request.method === "HEAD";
    try {
      if (request.method !== "GET" && !head) {
        response.setHeader("Allow", "GET, HEAD");
        throw new HttpError(405, { error: { code: "bad-request", message: `${request.method} is not allowed: the dashboard is read-only`, hint: "Use GET." } });
      }
      // A page on another site could point a name at 127.0.0.1 (DNS rebinding) and read the API: only loopback names are served.
      const hostName = (request.headers.host ?? "").replace(/:\d+$/, "");
      if (loopbackOnly && !LOOPBACK_NAMES.has(hostName)) {
        throw new HttpError(403, { error: { code: "bad-request", message: `Host ${JSON.stringify(hostName)} is not this machine`, hint: "Open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/." } });
      }
      const url = new URL(request.url ?? "/", "http://dashboard.invalid");
      await this.route(url, response, head);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(response, error.status, error.body, "no-store", head);
      const problem = describeStoreError(error, this.options.store.description);
      this.health.failed(problem);
      sendJson(response, 502, { error: problem } satisfies ErrorResponse, "no-store", head);
    }
  }

  private async route(url: URL, response: ServerResponse, head: boolean): Promise<void> {
    const path = url.pathname;
    if (path === "/api/hosts") return sendJson(response, 200, await this.fleet(), SHORT_CACHE, head);
    const hostPath = /^\/api\/hosts\/([^/]+)\/(latest|history)$/.exec(path);
    if (hostPath) {
      const host = hostOf(hostPath[1] as string);
      return hostPath[2] === "latest" ? this.latest(host, response, head) : this.history(host, url.searchParams, response, head);
    }
    const file = this.files?.get(path === "/index.html" ? "/" : path);
    if (file) return send(response, 200, file.type, file.body, file.immutable ? IMMUTABLE : "no-cache", head);
    if (path === "/" && !this.files) {
      throw new HttpError(503, { error: { code: "page-not-built", message: "the dashboard page is not built", hint: 'Run "npm run build -w @resourcemonitor/dashboard" (or "npm run build" at the repository root), then restart.' } });
    }
    throw new HttpError(404, { error: { code: "not-found", message: `nothing at ${path}`, hint: "The page is at /, the API under /api/hosts." } });
  }

  private async fleet(): Promise<FleetResponse> {
    this.fleetInFlight ??= readFleet(this.fleetOptions).finally(() => (this.fleetInFlight = undefined));
    const fleet = await this.fleetInFlight;
    this.health.succeeded(this.options.store.description);
    return fleet;
  }

  private async latest(host: string, response: ServerResponse, head: boolean): Promise<void> {
    const object = await this.options.store.get(latestKey(host, this.fleetOptions.prefix));
    this.health.succeeded(this.options.store.description);
    if (!object) throw new HttpError(404, { error: { code: "not-found", message: `no latest document for host ${JSON.stringify(host)}`, hint: "Check the host name against /api/hosts." } });
    send(response, 200, "application/json; charset=utf-8", object.body, SHORT_CACHE, head);
  }

  /** The host's latest document as JSON text (as stored), or `null` when there is none or it is not JSON. */
  private async latestJson(host: string): Promise<string> {
    const object = await this.options.store.get(latestKey(host, this.fleetOptions.prefix));
    if (!object) return "null";
    try {
      JSON.parse(object.body);
      return object.body;
    } catch {
      return "null";
    }
  }

  private async history(host: string, query: URLSearchParams, response: ServerResponse, head: boolean): Promise<void> {
    const now = Date.now();
    const { from, to } = rangeOf(query, now);
    const withLatest = latestOf(query);
    // The latest document is read alongside the listing: the page's host view is then one request.
    const [history, latest] = await Promise.all([readHistoryJson(this.historyOptions, host, from, to, pointsOf(query)), withLatest ? this.latestJson(host) : undefined]);
    this.health.succeeded(this.options.store.description);
    const body = latest === undefined ? history : Buffer.concat([history.subarray(0, -1), Buffer.from(`,"latest":${latest}}`)]);
    // With the latest document the answer can change whatever the range.
    send(response, 200, "application/json; charset=utf-8", body, to.getTime() < now - CLOSED_AFTER_MS && !withLatest ? IMMUTABLE : SHORT_CACHE, head);
  }
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost";
}

/** Serves the dashboard for `options.store` until `close()`; resolves once listening. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const logger = options.logger ?? { info: () => undefined, warn: () => undefined };
  const handler = new DashboardHandler(options, logger);
  const host = options.host ?? "127.0.0.1";
  const loopbackOnly = isLoopback(host);
  const server = createServer((request, response) => void handler.handle(request, response, loopbackOnly));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8787, host, () => resolve());
  });
  await handler.probe();
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}/`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
