import { readFileSync } from "node:fs";
import { endianness } from "node:os";

/** The ELF auxiliary vector entry that holds the page size (AT_PAGESZ in <elf.h>). */
const AT_PAGESZ = 6n;
const DEFAULT_PAGE_SIZE = 4096;
const ARCHES_WITH_32_BIT_WORDS = new Set(["arm", "ia32", "mips", "mipsel", "ppc", "s390"]);

/**
 * AT_PAGESZ from an auxiliary vector (pairs of native words: type, value; ended by type 0).
 * Undefined when the vector has no such entry.
 */
export function pageSizeFromAuxv(auxv: Buffer, wordBytes: 4 | 8, littleEndian: boolean): number | undefined {
  const readWord = (offset: number): bigint => {
    if (wordBytes === 8) return littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset);
    return BigInt(littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset));
  };
  for (let offset = 0; offset + 2 * wordBytes <= auxv.length; offset += 2 * wordBytes) {
    const type = readWord(offset);
    if (type === 0n) break;
    if (type === AT_PAGESZ) return Number(readWord(offset + wordBytes));
  }
  return undefined;
}

// Page sizes run from 4 KiB (x86) to 64 KiB (arm64, ppc64); anything else means the vector was misread.
const isPlausiblePageSize = (value: number): boolean => value >= 1024 && value <= 1 << 24 && Number.isInteger(Math.log2(value));

/**
 * The running kernel's page size, what sysconf(_SC_PAGESIZE) returns (Node has no sysconf). It is read from this
 * process's own /proc/self/auxv, never from the configured procfs root: the page size is the running kernel's,
 * even when the collector reads a host's or a fixture's /proc. 4096 when the vector cannot be read.
 */
export function hostPageSize(auxvPath = "/proc/self/auxv"): number {
  try {
    const wordBytes = ARCHES_WITH_32_BIT_WORDS.has(process.arch) ? 4 : 8;
    const pageSize = pageSizeFromAuxv(readFileSync(auxvPath), wordBytes, endianness() === "LE");
    return pageSize !== undefined && isPlausiblePageSize(pageSize) ? pageSize : DEFAULT_PAGE_SIZE;
  } catch {
    return DEFAULT_PAGE_SIZE;
  }
}
