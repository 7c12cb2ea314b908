import { S3ServiceException } from "@aws-sdk/client-s3";

export type S3Action = "s3:GetObject" | "s3:PutObject" | "s3:ListBucket";

export interface FailureContext {
  action: S3Action;
  bucket: string;
  /** The key, or how to name it (e.g. `history/server01/*`). */
  key: string;
  endpoint?: string;
  region?: string;
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ECONNABORTED"]);
const CREDENTIALS_REJECTED = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"]);
const WRONG_REGION = new Set(["PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"]);

function where(context: FailureContext): string {
  return context.endpoint ?? `https://s3.${context.region ?? "us-east-1"}.amazonaws.com`;
}

function regionHint(error: S3ServiceException): string | undefined {
  const header = error.$response?.headers["x-amz-bucket-region"];
  if (header) return header;
  return /expecting '([a-z0-9-]+)'/.exec(error.message)?.[1];
}

function describeService(error: S3ServiceException, context: FailureContext): string {
  const { action, bucket, key } = context;
  const status = error.$metadata.httpStatusCode;
  const target = `s3://${bucket}/${key}`;
  if (error.name === "NoSuchBucket") {
    return `bucket "${bucket}" does not exist at ${where(context)}: create it, or set S3_BUCKET_NAME (the s3 sink's bucket option) to an existing bucket`;
  }
  if (WRONG_REGION.has(error.name) || status === 301) {
    const region = regionHint(error);
    const fix = region ? `set AWS_DEFAULT_REGION=${region} (the s3 sink's region option)` : "set AWS_DEFAULT_REGION (the s3 sink's region option) to the bucket's region";
    return `bucket "${bucket}" is not in region ${context.region ?? "us-east-1"}${region ? ` but in ${region}` : ""} (S3 answered ${error.name}): ${fix}`;
  }
  if (CREDENTIALS_REJECTED.has(error.name)) {
    return `S3 rejected the AWS credentials (${error.name}) on ${action} ${target}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile or role the agent runs with`;
  }
  if (error.name === "AccessDenied" || status === 403) {
    return `access denied: ${action} on ${target}; allow ${action} on that key for the agent's IAM user or role (deploy/iam-policy.json is the least-privilege policy)`;
  }
  if (status === 503 || status === 500 || error.name === "SlowDown") {
    return `S3 answered ${status ?? ""} ${error.name} to ${action} ${target} after ${context.maxAttempts ?? 3} attempts: it is throttling or unavailable; the sample is kept and retried`;
  }
  return `${action} on ${target} failed: S3 answered ${status ?? "?"} ${error.name}: ${error.message}`;
}

/**
 * One line that says what went wrong with an S3 request and what to do about it. The same state gives the same
 * text (no request ids, no times), so the runtime logs it once per change, not once per tick. Never a secret.
 */
export function describeS3Failure(error: unknown, context: FailureContext): string {
  if (error instanceof S3ServiceException) return describeService(error, context);
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (name === "CredentialsProviderError") {
    return "no AWS credentials found (the SDK's default chain: environment, shared config and credentials files, web identity, ECS, EC2 instance role): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in /etc/resourcemonitor/config, or AWS_PROFILE, or give the machine a role";
  }
  if (code === "ETIMEDOUT" || name === "TimeoutError" && code === undefined) {
    return `the S3 endpoint ${where(context)} did not answer ${context.action} ${context.key} within ${context.requestTimeoutMs ?? "?"} ms (${context.maxAttempts ?? 1} attempts): check the network, proxy and endpoint; the sample is kept and retried`;
  }
  if (code && UNREACHABLE.has(code)) {
    return `cannot reach the S3 endpoint ${where(context)} (${code}) for ${context.action} ${context.key}: check the endpoint (AWS_ENDPOINT_URL_S3), DNS and network; the sample is kept and retried`;
  }
  return `${context.action} on s3://${context.bucket}/${context.key} failed: ${name}: ${message}`;
}
