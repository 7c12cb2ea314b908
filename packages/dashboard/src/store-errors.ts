import type { ErrorResponse, StoreErrorCode } from "./api-types.js";

export interface DashboardLogger {
  info(message: string): void;
  warn(message: string): void;
}

type StoreError = ErrorResponse["error"] & { code: StoreErrorCode };

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "TimeoutError", "RequestTimeout"]);
const DENIED = new Set(["AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AllAccessDisabled"]);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** The error's own code and those of its causes (SDKs wrap the socket error). */
function codes(error: unknown): string[] {
  const found: string[] = [];
  for (let current = error as ErrorShape | undefined, depth = 0; current && typeof current === "object" && depth < 5; current = current.cause as ErrorShape | undefined, depth += 1) {
    for (const code of [current.name, current.code, current.Code]) if (typeof code === "string") found.push(code);
  }
  return found;
}

/** What went wrong reading the store, in words, with what to do about it. */
export function describeStoreError(error: unknown, store: string): StoreError {
  const all = codes(error);
  const status = ((error as ErrorShape | undefined)?.$metadata ?? ((error as ErrorShape | undefined)?.cause as ErrorShape | undefined)?.$metadata)?.httpStatusCode;
  const message = `${store}: ${(error as Error | undefined)?.message ?? String(error)}`;
  if (all.some((code) => DENIED.has(code)) || status === 403 || status === 401 || all.includes("EACCES") || all.includes("EPERM")) {
    return {
      code: "access-denied",
      message,
      hint: "The dashboard's credentials may not read the store. It needs s3:ListBucket on the bucket and s3:GetObject on its keys (or read permission on the directory); check AWS_PROFILE / AWS_ACCESS_KEY_ID and the bucket policy.",
    };
  }
  if (all.includes("NoSuchBucket")) {
    return { code: "no-such-bucket", message, hint: "Check the bucket name (--bucket, S3_BUCKET_NAME) and region (--region, AWS_DEFAULT_REGION)." };
  }
  if (all.includes("CredentialsProviderError")) {
    return { code: "no-credentials", message, hint: "No AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance role applies." };
  }
  if (all.some((code) => UNREACHABLE.has(code))) {
    return { code: "unreachable", message, hint: "The store did not answer. Check the network, the endpoint (AWS_ENDPOINT_URL) and the region; the page retries on its own." };
  }
  return { code: "store-error", message, hint: "Reading the store failed; the dashboard's log has the details. The page retries on its own." };
}

/** Logs a store failure once (not on every request of every open page) and once more when reads work again. */
export class StoreHealth {
  private failing: string | undefined;

  constructor(private readonly logger: DashboardLogger) {}

  failed(problem: StoreError): void {
    const key = `${problem.code} ${problem.message}`;
    if (this.failing === key) return;
    this.failing = key;
    this.logger.warn(`store read failed (${problem.code}): ${problem.message}. ${problem.hint}`);
  }

  succeeded(store: string): void {
    if (this.failing === undefined) return;
    this.failing = undefined;
    this.logger.info(`store ${store} readable again`);
  }
}
