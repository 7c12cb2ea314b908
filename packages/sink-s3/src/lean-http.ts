import { hash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { S3Client } from "@aws-sdk/client-s3";
import { encodeStrict, SigV4Signer, type SignableRequest } from "./sigv4.js";

/**
 * The lean request path: one signed S3 request over node:http(s) with a keep-alive agent, without the SDK's
 * middleware stack (about 0.55 ms of CPU per GetObject through the SDK against 0.08 ms this way). It only ever
 * answers what came back (or that nothing did); deciding what an answer means, and handing anything unusual to
 * the SDK, is the store's job.
 */

export interface LeanRequest {
  method: "GET" | "PUT";
  /** The object's key; `""` for a bucket-level request (ListObjectsV2). */
  key: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

export interface LeanResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What became of a lean request. */
export type LeanOutcome =
  /** Nothing was sent (no lean path for this client, or no credentials): the SDK sends the request itself. */
  | { kind: "unsent" }
  /** The server answered (any status). */
  | { kind: "answered"; response: LeanResponse }
  /** The request went out and no answer came: a network error or the request timeout, as the SDK's handler reports it. */
  | { kind: "failed"; error: Error };

export interface LeanOptions {
  /** Milliseconds from sending until the whole answer is read; none when unset. */
  requestTimeoutMs?: number;
  /** The keep-alive agent (default: one of the transport's own, 50 sockets, as the SDK's handler). */
  agent?: HttpAgent;
}

/** Where a bucket's requests go and how they are signed, as the client's endpoint rules resolve them. */
interface Target {
  https: boolean;
  hostname: string;
  port: number | undefined;
  /** `/bucket` for path style, `` for virtual-hosted style. */
  basePath: string;
  host: string;
  signer: SigV4Signer;
}

/** Unsigned (SigV4 never signs User-Agent): says at the server which requests took the lean path. */
const USER_AGENT = "resourcemonitor-sink-s3 (lean path)";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const encodeKey = (key: string) => key.split("/").map(encodeStrict).join("/");

function endpointUrl({ protocol, hostname, port, path }: { protocol: string; hostname: string; port?: number; path: string }): string {
  return `${protocol}//${hostname}${port === undefined ? "" : `:${port}`}${path}`;
}

/** The endpoint the client was given, or the one the SDK reads from AWS_ENDPOINT_URL_S3 / the shared config itself. */
async function configuredEndpoint(config: S3Client["config"]): Promise<string | undefined> {
  if (config.endpoint) return endpointUrl(await config.endpoint());
  const fromEnvironment = (config as { serviceConfiguredEndpoint?: () => Promise<string | undefined> }).serviceConfiguredEndpoint;
  return typeof fromEnvironment === "function" ? fromEnvironment() : undefined;
}

/** A config setting the SDK keeps either as a value or as a provider of one. */
async function setting<T>(value: T | (() => Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === "function" ? (value as () => Promise<T>)() : value;
}

/** The bucket's endpoint from the client's own rules (path or virtual-hosted style, FIPS, dual-stack); undefined where it is not plain SigV4. */
async function resolveTarget(client: S3Client, bucket: string): Promise<Target | undefined> {
  const { config } = client;
  const resolved = config.endpointProvider({
    Bucket: bucket,
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    ForcePathStyle: config.forcePathStyle,
    Accelerate: config.useAccelerateEndpoint,
    UseGlobalEndpoint: await setting<boolean | undefined>(config.useGlobalEndpoint),
    DisableMultiRegionAccessPoints: await setting<boolean | undefined>(config.disableMultiregionAccessPoints),
    UseArnRegion: await setting<boolean | undefined>(config.useArnRegion),
    Endpoint: await configuredEndpoint(config),
  });
  const scheme = resolved.properties?.authSchemes as { name?: string; signingName?: string; signingRegion?: string }[] | undefined;
  const sigv4 = scheme?.[0];
  // S3 Express, multi-region access points (SigV4a) and endpoint-added headers stay with the SDK.
  if (sigv4?.name !== "sigv4" || !sigv4.signingRegion || Object.keys(resolved.headers ?? {}).length > 0) return undefined;
  const url = resolved.url;
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return {
    https: url.protocol === "https:",
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? undefined : Number(url.port),
    basePath: url.pathname.replace(/\/$/, ""),
    host: url.host,
    signer: new SigV4Signer(sigv4.signingRegion, sigv4.signingName ?? "s3"),
  };
}

/** The error the SDK's NodeHttpHandler gives for `throwOnRequestTimeout`, so the SDK's retry treats it alike. */
function timeoutError(ms: number): Error {
  return Object.assign(new Error(`@smithy/node-http-handler - [ERROR] a request has exceeded the configured ${ms} ms requestTimeout.`), { name: "TimeoutError", code: "ETIMEDOUT" });
}

/** The socket errors the SDK's handler renames TimeoutError (its NODEJS_TIMEOUT_ERROR_CODES), which its retry reads. */
const HANDLER_TIMEOUT_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

function asHandlerError(error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return code && HANDLER_TIMEOUT_CODES.has(code) ? Object.assign(error, { name: "TimeoutError" }) : error;
}

/** Signs and sends S3 requests for one bucket of one client. */
export class LeanTransport {
  private target: Promise<Target | undefined> | undefined;
  private readonly agent: HttpAgent | undefined;
  private ownAgents: { http?: HttpAgent; https?: HttpsAgent } = {};

  constructor(private readonly client: S3Client, private readonly bucket: string, private readonly options: LeanOptions = {}) {
    this.agent = options.agent;
  }

  /** Sends `request` once (no retries: those are the SDK's, on fallback). */
  async send(request: LeanRequest): Promise<LeanOutcome> {
    let prepared;
    try {
      prepared = await this.prepare(request);
    } catch {
      return { kind: "unsent" };
    }
    if (!prepared) return { kind: "unsent" };
    try {
      return { kind: "answered", response: await this.exchange(prepared.target, prepared.signed, request.body) };
    } catch (error) {
      return { kind: "failed", error: asHandlerError(error as Error) };
    }
  }

  destroy(): void {
    this.ownAgents.http?.destroy();
    this.ownAgents.https?.destroy();
    this.ownAgents = {};
  }

  private async prepare(request: LeanRequest): Promise<{ target: Target; signed: SignableRequest } | undefined> {
    this.target ??= resolveTarget(this.client, this.bucket).catch(() => undefined);
    const target = await this.target;
    if (!target) return undefined;
    const credentials = await this.client.config.credentials();
    const headers: Record<string, string> = { host: target.host, "user-agent": USER_AGENT, "x-amz-content-sha256": request.body === undefined ? EMPTY_SHA256 : hash("sha256", request.body, "hex"), ...request.headers };
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    const unsigned: SignableRequest = { method: request.method, path: `${target.basePath}/${encodeKey(request.key)}`, query: request.query ?? {}, headers };
    const offset = (this.client.config as { systemClockOffset?: number }).systemClockOffset ?? 0;
    const signed = { ...unsigned, headers: target.signer.sign(unsigned, credentials, new Date(Date.now() + offset)) };
    return { target, signed };
  }

  private agentFor(https: boolean): HttpAgent {
    if (this.agent) return this.agent;
    if (https) return (this.ownAgents.https ??= new HttpsAgent({ keepAlive: true, maxSockets: 50 }));
    return (this.ownAgents.http ??= new HttpAgent({ keepAlive: true, maxSockets: 50 }));
  }

  private exchange(target: Target, signed: SignableRequest, body: string | undefined): Promise<LeanResponse> {
    const query = Object.entries(signed.query).map(([name, value]) => `${encodeStrict(name)}=${encodeStrict(value)}`).join("&");
    const send = target.https ? httpsRequest : httpRequest;
    return new Promise<LeanResponse>((resolve, reject) => {
      const outgoing = send({ hostname: target.hostname, port: target.port, method: signed.method, path: query ? `${signed.path}?${query}` : signed.path, headers: signed.headers, agent: this.agentFor(target.https) });
      const timeoutMs = this.options.requestTimeoutMs;
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      // Rejected here as well as through the request's error: a request destroyed mid-answer may end no other way.
      const timer = timeoutMs ? setTimeout(() => {
        const error = timeoutError(timeoutMs);
        outgoing.destroy(error);
        fail(error);
      }, timeoutMs) : undefined;
      outgoing.on("error", fail);
      outgoing.on("response", (incoming: IncomingMessage) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", fail);
        incoming.on("close", () => {
          if (!incoming.complete) fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        });
        incoming.on("end", () => {
          clearTimeout(timer);
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) });
        });
      });
      outgoing.end(body);
    });
  }
}
