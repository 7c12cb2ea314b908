import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spool, type SpoolLimits } from "../src/index.js";
import { encodeRecord, parseRecord } from "../src/spool.js";
import { captureLogger } from "../src/testing.js";

const LIMITS: SpoolLimits = { maxBytes: 64 * 1024 * 1024, maxAgeMs: 7 * 24 * 3_600_000, memoryLimit: 100 };
const NOW = Date.now();

function record(n: number, size = 40) {
  return { time: NOW - 100_000 + n * 1000, json: JSON.stringify({ timestamp: new Date(NOW - 100_000 + n * 1000).toISOString(), n, pad: "x".repeat(size) }) };
}

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rm-spool-"));
  try {
    await work(join(dir, "sink"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function drain(spool: Spool, max = Number.POSITIVE_INFINITY): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < max) {
    const next = await spool.peek();
    if (!next) break;
    seen.push((JSON.parse(next.json) as { n: number }).n);
    await spool.ack();
  }
  return seen;
}

test("records come back in the order they were appended, each once", () => withDir(async (dir) => {
  const { logger } = captureLogger();
  const spool = await Spool.open(dir, LIMITS, logger);
  assert.deepEqual(await readdir(join(dir, "..")), [], "nothing is created before the first append");
  for (let n = 0; n < 50; n += 1) await spool.append(record(n));
  assert.equal(spool.depth, 50);
  assert.deepEqual(await drain(spool, 20), Array.from({ length: 20 }, (_, n) => n));
  for (let n = 50; n < 60; n += 1) await spool.append(record(n));
  assert.deepEqual(await drain(spool), Array.from({ length: 40 }, (_, n) => n + 20));
  assert.equal(spool.depth, 0);
  await spool.close();
}));

test("without close (kill -9), a reopened spool still has every record not consumed; at most the last second's are replayed again", () => withDir(async (dir) => {
  const { logger } = captureLogger();
  const first = await Spool.open(dir, LIMITS, logger);
  for (let n = 0; n < 30; n += 1) await first.append(record(n));
  const consumed = await drain(first, 10);
  // no close(): the process died
  const second = await Spool.open(dir, LIMITS, logger);
  const replayed = await drain(second);
  assert.deepEqual(replayed.slice(-20), Array.from({ length: 20 }, (_, n) => n + 10), "nothing unconsumed is lost");
  assert.ok(replayed.length <= 30 && replayed.every((n, index) => index === 0 || n === (replayed[index - 1] as number) + 1), `in order, no duplicates: ${replayed.join(",")}`);
  assert.deepEqual(consumed, Array.from({ length: 10 }, (_, n) => n));
  await Promise.all([first.close(), second.close()]);
}));

test("a torn record at the end is truncated with a warning; appends go on after the last good one", () => withDir(async (dir) => {
  const { logger, lines } = captureLogger();
  const first = await Spool.open(dir, LIMITS, logger);
  for (let n = 0; n < 5; n += 1) await first.append(record(n));
  await first.close();
  const [segment] = (await readdir(dir)).filter((name) => name.endsWith(".seg"));
  const path = join(dir, segment as string);
  const handle = await open(path, "a");
  await handle.write(encodeRecord(record(5)).subarray(0, 30));
  await handle.close();
  const second = await Spool.open(dir, LIMITS, logger);
  assert.ok(lines.some((line) => line.level === "warn" && /torn record at the end; truncated/.test(line.msg)));
  await second.append(record(6));
  assert.deepEqual(await drain(second), [0, 1, 2, 3, 4, 6]);
  await second.close();
}));

test("a corrupt record in the middle is skipped with a warning naming the file and offset, never blocking the rest", () => withDir(async (dir) => {
  const { logger, lines } = captureLogger();
  const first = await Spool.open(dir, LIMITS, logger);
  for (let n = 0; n < 5; n += 1) await first.append(record(n));
  await first.close();
  const [segment] = (await readdir(dir)).filter((name) => name.endsWith(".seg"));
  const path = join(dir, segment as string);
  const bytes = await readFile(path);
  const secondRecord = encodeRecord(record(0)).length;
  bytes.writeUInt8((bytes[secondRecord + 25] as number) ^ 0xff, secondRecord + 25); // flip a payload byte of record 1
  await writeFile(path, bytes);
  const second = await Spool.open(dir, LIMITS, logger);
  assert.equal(second.depth, 4);
  assert.deepEqual(await drain(second), [0, 2, 3, 4]);
  const warning = lines.find((line) => line.level === "warn" && /is corrupt \(checksum mismatch\)/.test(line.msg));
  assert.match(warning?.msg ?? "", new RegExp(`${segment}:${secondRecord} is corrupt`));
  assert.equal(second.snapshot().corrupt, 1);
  await second.close();
}));

test("parseRecord: random bytes never throw, and never pass as a record", () => {
  for (let round = 0; round < 2000; round += 1) {
    const data = Buffer.from(Array.from({ length: Math.floor(Math.random() * 64) }, () => Math.floor(Math.random() * 256)));
    if (round % 3 === 0) data.write("RMS1", 0, "latin1");
    const parsed = parseRecord(data, 0);
    assert.notEqual(parsed.kind, "record");
  }
});

test("over the size limit the oldest segments are dropped, counted and logged", () => withDir(async (dir) => {
  const { logger, lines } = captureLogger();
  const limits = { ...LIMITS, maxBytes: 256 * 1024 };
  const spool = await Spool.open(dir, limits, logger);
  for (let n = 0; n < 600; n += 1) await spool.append(record(n, 1000));
  const { bytes, dropped, depth } = spool.snapshot();
  assert.ok(bytes <= limits.maxBytes, `${bytes} bytes on disk`);
  assert.ok(dropped > 0 && dropped + depth === 600, `dropped ${dropped}, kept ${depth}`);
  const kept = await drain(spool);
  assert.deepEqual(kept, Array.from({ length: depth }, (_, n) => n + dropped), "the newest are kept, in order");
  assert.ok(lines.some((line) => line.level === "warn" && /dropped the \d+ oldest samples: over the spool's limits/.test(line.msg)));
  await spool.close();
}));

test("records older than the age limit are dropped when read", () => withDir(async (dir) => {
  const { logger, lines } = captureLogger();
  const spool = await Spool.open(dir, { ...LIMITS, maxAgeMs: 50_000 }, logger);
  for (let n = 0; n < 100; n += 1) await spool.append(record(n));
  const kept = await drain(spool);
  assert.ok(kept.length < 100 && kept.length > 40, `${kept.length} kept`);
  assert.equal(spool.snapshot().dropped, 100 - kept.length);
  assert.ok(lines.some((line) => /older than the age limit/.test(line.msg)));
  await spool.close();
}));

test("a state directory that cannot be written: one clear error, records kept in memory in order, bounded; disk again once they are out", () => withDir(async (dir) => {
  const { logger, lines } = captureLogger();
  // A file where the directory should be fails for root too (permissions would not).
  await writeFile(dir, "not a directory");
  const spool = await Spool.open(dir, { ...LIMITS, memoryLimit: 10 }, logger);
  for (let n = 0; n < 12; n += 1) await spool.append(record(n));
  const errors = lines.filter((line) => line.level === "error");
  assert.equal(errors.length, 1, "one error, not one per sample");
  assert.match(errors[0]?.msg ?? "", /^spool cannot write .*sink: .*keeping up to 10 unsent samples in memory instead \(lost if the agent stops\)\. Fix: make the state directory writable/);
  assert.deepEqual(spool.snapshot(), { depth: 10, bytes: 0, inMemory: 10, dropped: 2, corrupt: 0, diskError: spool.snapshot().diskError });
  assert.deepEqual(await drain(spool), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  await rm(dir);
  await spool.append(record(12));
  assert.equal(spool.snapshot().inMemory, 0);
  assert.equal(spool.snapshot().diskError, undefined);
  assert.ok(lines.some((line) => /is writable again/.test(line.msg)));
  assert.deepEqual(await drain(spool), [12]);
  await spool.close();
}));
