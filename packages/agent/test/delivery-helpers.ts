import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startS3Server, type S3TestServer } from "@resourcemonitor/s3-test-server";
import { startCli, tempDir, waitFor } from "./cli-helpers.js";

export const BUCKET = "outage-bucket";
export const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "outage-test-secret", AWS_EC2_METADATA_DISABLED: "true" };

export async function startServer(): Promise<S3TestServer> {
  return startS3Server({ buckets: [BUCKET], recordRequests: false });
}

/** Keys under `prefix`, read with plain ListObjectsV2 requests (the test server checks no signature). */
export async function listKeys(server: S3TestServer, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ "list-type": "2", prefix, ...(token ? { "continuation-token": token } : {}) });
    const xml = await (await fetch(`${server.endpoint}/${BUCKET}?${query}`)).text();
    keys.push(...[...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1] as string));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] : undefined;
  } while (token);
  return keys;
}

export async function getObject(server: S3TestServer, key: string): Promise<string | undefined> {
  const response = await fetch(`${server.endpoint}/${BUCKET}/${key}`);
  return response.ok ? response.text() : undefined;
}

/** A directory with a config for the agent: 1 s interval, cpu and memory, the s3 sink on the test server. */
export async function agentConfig(server: S3TestServer, hostname: string, delivery: Record<string, number> = {}): Promise<{ cwd: string; stateDir: string }> {
  const cwd = await tempDir("rm-outage-");
  const config = {
    interval: 1,
    hostname,
    stateDir: join(cwd, "state"),
    collectors: ["cpu", "memory"],
    sinks: [{ name: "s3", bucket: BUCKET, endpoint: server.endpoint, forcePathStyle: true, region: "us-east-1", requestTimeoutMs: 500, maxAttempts: 1 }],
    delivery: { retryInitial: 0.2, retryMax: 2, flushTimeout: 2, ...delivery },
  };
  await writeFile(join(cwd, "resourcemonitor.config.json"), JSON.stringify(config, null, 2));
  await chmod(join(cwd, "resourcemonitor.config.json"), 0o600);
  return { cwd, stateDir: config.stateDir };
}

export function startAgent(cwd: string) {
  return startCli(["run"], { cwd, env: CREDENTIALS });
}

/** Seconds since the epoch of each history key; throws on a key that is not `<YYYYMMDD_HHMMSS>.json`. */
export function historySeconds(keys: string[]): number[] {
  return keys.map((key) => {
    const match = /(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})\.json$/.exec(key);
    if (!match) throw new Error(`unexpected history key ${key} (a duplicate gets a suffix)`);
    const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
    return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) / 1000;
  });
}

/** The most slots a delivery test lets the machine stall away (logged as skipped): more is the agent's fault. */
const MAX_EXCUSED_SKIPS = 3;

/**
 * Seconds in [first, last] that have no history object, less the slots the agent logged as skipped in `logs`
 * (its stderr): a tick the test machine stalled past the next slot is a scheduling gap, not a lost sample.
 * Fails when more than a few were skipped.
 */
export function gaps(seconds: number[], ...logs: string[]): number[] {
  const have = new Set(seconds);
  const skipped = skippedSeconds(logs);
  assert.ok(skipped.size <= MAX_EXCUSED_SKIPS, `the agent skipped ${skipped.size} slots: more than a stalled test machine explains`);
  const missing: number[] = [];
  for (let second = Math.min(...seconds); second <= Math.max(...seconds); second += 1) if (!have.has(second) && !skipped.has(second)) missing.push(second);
  return missing;
}

/** The seconds of the slots the scheduler reported skipping ("skippedFrom" and "skipped" in a warning line). */
function skippedSeconds(logs: string[]): Set<number> {
  const seconds = new Set<number>();
  for (const line of logs.join("\n").split("\n")) {
    if (!line.includes('"skippedFrom"')) continue;
    const { skippedFrom, skipped } = JSON.parse(line) as { skippedFrom: string; skipped: number };
    for (let index = 0; index < skipped; index += 1) seconds.add(Date.parse(skippedFrom) / 1000 + index);
  }
  return seconds;
}

export async function readStatusFile(stateDir: string): Promise<{ sinks: { sink: string; depth: number; state: string; replayed: number; dropped: number }[]; ticks: number }> {
  return JSON.parse(await readFile(join(stateDir, "status.json"), "utf8")) as never;
}

/** Waits until the s3 sink's spool is empty and its state is up, per the status file. */
export function waitDrained(stateDir: string, timeoutMs: number): Promise<true> {
  return waitFor(async () => {
    const status = await readStatusFile(stateDir);
    const sink = status.sinks.find((entry) => entry.sink === "s3");
    return sink && sink.depth === 0 && sink.state === "up" ? true : undefined;
  }, timeoutMs, "the s3 spool to drain");
}
