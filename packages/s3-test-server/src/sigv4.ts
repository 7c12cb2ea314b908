import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * AWS Signature Version 4 as S3 checks it (header-signed requests only), written from the specification
 * rather than with a client's signing library, so a test catches a client that signs the wrong thing.
 */

export interface SignatureFailure {
  status: number;
  code: string;
  message: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received: the path (URI-encoded), then `?query`. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** URI encoding as SigV4 canonicalizes: every byte but `A-Z a-z 0-9 - _ . ~`. */
function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** S3 decodes the path it received and encodes each segment once, whatever the client left unencoded. */
function canonicalPath(path: string): string {
  return path.split("/").map((segment) => encodeStrict(decodeURIComponent(segment))).join("/");
}

function canonicalQuery(query: string): string {
  const pairs = query.split("&").filter((pair) => pair !== "").map((pair) => {
    const cut = pair.indexOf("=");
    const [name, value] = cut === -1 ? [pair, ""] : [pair.slice(0, cut), pair.slice(cut + 1)];
    return [encodeStrict(decodeURIComponent(name)), encodeStrict(decodeURIComponent(value))] as const;
  });
  pairs.sort(([nameA, valueA], [nameB, valueB]) => (nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function headerValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined.trim().replace(/\s+/g, " ");
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text, "utf8").digest();

const denied = (code: string, message: string, status = 403): SignatureFailure => ({ status, code, message });

/** The canonical request of SigV4 for `request`, given the headers it signed and its payload hash. */
export function canonicalRequest(request: SignedRequest, signedHeaders: string[], payloadHash: string): string {
  const cut = request.rawUrl.indexOf("?");
  const path = cut === -1 ? request.rawUrl : request.rawUrl.slice(0, cut);
  const query = cut === -1 ? "" : request.rawUrl.slice(cut + 1);
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name])}\n`).join("");
  return [request.method, canonicalPath(path), canonicalQuery(query), headers, signedHeaders.join(";"), payloadHash].join("\n");
}

/**
 * Undefined when `request` carries a valid SigV4 signature by one of `secrets` (access key id → secret key),
 * else the error S3 answers: AccessDenied (unsigned), InvalidAccessKeyId, AuthorizationHeaderMalformed,
 * SignatureDoesNotMatch.
 */
export function checkSignature(request: SignedRequest, secrets: Readonly<Record<string, string>>): SignatureFailure | undefined {
  const authorization = headerValue(request.headers.authorization);
  if (authorization === "") return denied("AccessDenied", "Access Denied (the request is not signed)");
  const parsed = AUTHORIZATION.exec(authorization);
  if (!parsed) return denied("AuthorizationHeaderMalformed", "The authorization header is malformed.", 400);
  const [, accessKeyId = "", day = "", region = "", service = "", signedList = "", signature = ""] = parsed;
  const secret = secrets[accessKeyId];
  if (secret === undefined) return denied("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  const amzDate = headerValue(request.headers["x-amz-date"]);
  const payloadHash = headerValue(request.headers["x-amz-content-sha256"]);
  const signedHeaders = signedList.split(";");
  if (!amzDate.startsWith(day) || payloadHash === "" || !signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date")) {
    return denied("AuthorizationHeaderMalformed", "The authorization header is malformed: it must sign host and x-amz-date, with x-amz-content-sha256 present and the credential's date that of x-amz-date.", 400);
  }
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest(request, signedHeaders, payloadHash))].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
  const expected = hmac(signingKey, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) {
    return denied("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
  }
  return undefined;
}

/** Undefined when the body hashes to the signed `x-amz-content-sha256` (or the payload is declared unsigned), else S3's 400. */
export function checkPayloadHash(headers: SignedRequest["headers"], body: Buffer | undefined): SignatureFailure | undefined {
  const declared = headerValue(headers["x-amz-content-sha256"]);
  if (!/^[0-9a-f]{64}$/.test(declared)) return undefined;
  const actual = createHash("sha256").update(body ?? Buffer.alloc(0)).digest("hex");
  return actual === declared ? undefined : denied("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
}
