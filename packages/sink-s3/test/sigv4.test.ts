import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { SigV4Signer, type SignableRequest } from "../src/sigv4.js";

/** The hash the SDK itself gives its signer in Node. */
const SDK_SHA256 = new S3Client({ region: "us-east-1" }).config.sha256;
const EMPTY_SHA256 = hash("sha256", "", "hex");
const LONG_TERM = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const TEMPORARY = { ...LONG_TERM, sessionToken: "FwoGZXIvYXdzEJr//////////wEaDOnrole+session/token==" };

function request(overrides: Partial<SignableRequest> & { body?: string } = {}): SignableRequest {
  const { body, ...rest } = overrides;
  return {
    method: "PUT",
    path: "/bucket/history/server01/20250805_143022.json",
    query: {},
    ...rest,
    headers: {
      host: "s3.eu-west-1.amazonaws.com",
      "user-agent": "resourcemonitor-sink-s3 (lean path)",
      "x-amz-content-sha256": body === undefined ? EMPTY_SHA256 : hash("sha256", body, "hex"),
      ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }),
      ...rest.headers,
    },
  };
}

/** @smithy/signature-v4, as the SDK signs S3 requests (path not encoded twice, payload hash given). */
async function smithyHeaders(unsigned: SignableRequest, credentials: typeof LONG_TERM & { sessionToken?: string }, date: Date, region: string): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region, service: "s3", sha256: SDK_SHA256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign({ ...unsigned, protocol: "https:", hostname: unsigned.headers.host ?? "" }, { signingDate: date });
  return signed.headers;
}

const CASES: [string, SignableRequest][] = [
  ["a PUT with a body, content type and If-Match", request({ body: "{\"a\":1}", headers: { "content-type": "application/json", "if-match": "\"0123abcd\"" } })],
  ["a GET without a body", request({ method: "GET", path: "/bucket/list.json" })],
  ["a listing with query parameters to sort and encode", request({ method: "GET", path: "/bucket", query: { "list-type": "2", prefix: "fleet a/history/h+1/", "start-after": "fleet a/history/h+1/20250805_143022.json", "continuation-token": "1/ab=+cd" } })],
  ["a key with spaces, unicode and reserved characters, encoded once", request({ path: "/bucket/na%20me%2B%C3%A9/%28x%29%21%2A%27.json", body: "" })],
  ["header values with runs of spaces, SSE-KMS and If-None-Match", request({ body: "x", headers: { "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "  arn:aws:kms:eu-west-1:1:key/abc   def ", "if-none-match": "*", "x-amz-meta-note": "a\tb" } })],
];

describe("SigV4Signer", () => {
  for (const [name, unsigned] of CASES) {
    for (const [kind, credentials] of [["long-term", LONG_TERM], ["temporary", TEMPORARY]] as const) {
      it(`signs ${name} (${kind} credentials) exactly as @smithy/signature-v4`, async () => {
        const date = new Date("2025-08-05T14:30:22.123Z");
        const ours = new SigV4Signer("eu-west-1", "s3").sign(unsigned, credentials, date);
        const theirs = await smithyHeaders(unsigned, credentials, date, "eu-west-1");
        assert.equal(ours.authorization, theirs.authorization);
        assert.equal(ours["x-amz-date"], "20250805T143022Z");
        assert.equal(ours["x-amz-security-token"], "sessionToken" in credentials ? credentials.sessionToken : undefined);
        assert.equal(ours["user-agent"], unsigned.headers["user-agent"], "User-Agent is sent, never signed");
        assert.doesNotMatch(ours.authorization ?? "", /user-agent/);
      });
    }
  }

  it("derives a new signing key when the day, the region's scope or the secret changes", () => {
    const signer = new SigV4Signer("us-east-1", "s3");
    const unsigned = request();
    const monday = signer.sign(unsigned, LONG_TERM, new Date("2025-08-04T23:59:59Z")).authorization;
    const tuesday = signer.sign(unsigned, LONG_TERM, new Date("2025-08-05T00:00:00Z")).authorization;
    const rotated = signer.sign(unsigned, { ...LONG_TERM, secretAccessKey: "another-secret" }, new Date("2025-08-05T00:00:00Z")).authorization;
    assert.match(monday ?? "", /Credential=AKIDEXAMPLE\/20250804\/us-east-1\/s3\/aws4_request/);
    assert.match(tuesday ?? "", /Credential=AKIDEXAMPLE\/20250805\/us-east-1\/s3\/aws4_request/);
    const signature = (header: string | undefined) => /Signature=([0-9a-f]{64})$/.exec(header ?? "")?.[1];
    assert.notEqual(signature(tuesday), signature(rotated));
    assert.equal(signer.sign(unsigned, LONG_TERM, new Date("2025-08-05T00:00:00Z")).authorization, tuesday, "back to the first secret: the same signature");
  });
});
