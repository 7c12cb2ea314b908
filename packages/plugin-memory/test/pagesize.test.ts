import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { hostPageSize, pageSizeFromAuxv } from "../src/index.js";

function auxv(pairs: [number, number][], wordBytes: 4 | 8, littleEndian: boolean): Buffer {
  const buffer = Buffer.alloc(pairs.length * 2 * wordBytes);
  pairs.flat().forEach((word, index) => {
    const offset = index * wordBytes;
    if (wordBytes === 8) {
      if (littleEndian) buffer.writeBigUInt64LE(BigInt(word), offset);
      else buffer.writeBigUInt64BE(BigInt(word), offset);
    } else if (littleEndian) buffer.writeUInt32LE(word, offset);
    else buffer.writeUInt32BE(word, offset);
  });
  return buffer;
}

test("pageSizeFromAuxv finds AT_PAGESZ (6) in 64- and 32-bit vectors of either byte order", () => {
  const pairs: [number, number][] = [[33, 0x7ffd0000], [16, 0xbfebfbff], [6, 65536], [17, 100], [0, 0]];
  for (const wordBytes of [4, 8] as const) {
    for (const littleEndian of [true, false]) assert.equal(pageSizeFromAuxv(auxv(pairs, wordBytes, littleEndian), wordBytes, littleEndian), 65536);
  }
});

test("pageSizeFromAuxv stops at AT_NULL and copes with a truncated vector", () => {
  assert.equal(pageSizeFromAuxv(auxv([[33, 1], [0, 0], [6, 4096]], 8, true), 8, true), undefined);
  assert.equal(pageSizeFromAuxv(auxv([[33, 1], [6, 4096]], 8, true).subarray(0, 20), 8, true), undefined);
});

test("hostPageSize falls back to 4096 when the vector cannot be read", () => {
  assert.equal(hostPageSize("/nonexistent/auxv"), 4096);
});

test("hostPageSize agrees with getconf PAGESIZE on this machine", (t) => {
  let expected: number;
  try {
    expected = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim());
  } catch {
    t.skip("getconf is not installed");
    return;
  }
  assert.equal(hostPageSize(), expected);
});
