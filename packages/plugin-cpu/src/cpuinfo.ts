/**
 * /proc/cpuinfo: blocks of `key : value` lines separated by blank lines. Keys are padded with tabs (x86, ppc64,
 * loong64) or spaces (s390x, ARM), so a key is the text before the first colon, trimmed. Legacy ARM opens with a
 * `Processor : ARMv7 ...` model line that is not a CPU; nothing here counts `processor` lines.
 */

export type CpuinfoBlock = ReadonlyMap<string, string>;

export function parseCpuinfo(text: string): CpuinfoBlock[] {
  const blocks: CpuinfoBlock[] = [];
  let block = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) {
      if (line.trim() === "" && block.size > 0) {
        blocks.push(block);
        block = new Map();
      }
      continue;
    }
    block.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (block.size > 0) blocks.push(block);
  return blocks;
}

/**
 * The current-frequency lines, in MHz: `cpu MHz` (x86), `CPU MHz` (loong64), `clock : 3000.000000MHz` (ppc64)
 * and `cpu MHz dynamic` (s390x; its `cpu MHz static` is the nominal rating, not a reading). ARM, MIPS and RISC-V
 * print none. A regular expression over the whole text: this runs every tick on VMs, and cpuinfo of a large
 * machine is hundreds of KB, so no per-line splitting.
 */
const MHZ_LINE = /^(?:cpu mhz(?: dynamic)?|clock)[ \t]*:[ \t]*(\d+(?:\.\d+)?)/gim;

export function cpuinfoMhz(text: string): number[] {
  const values: number[] = [];
  for (const match of text.matchAll(MHZ_LINE)) values.push(Number(match[1]));
  return values;
}

function firstOf(block: CpuinfoBlock, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = block.get(key);
    if (value !== undefined) return value;
  }
  return undefined;
}

// loong64 says `package` and `core` where x86 and s390x say `physical id` and `core id`.
const PACKAGE_KEYS = ["physical id", "package"];
const CORE_KEYS = ["core id", "core"];

function sumOfCoresPerPackage(blocks: readonly CpuinfoBlock[]): number {
  const coresPerPackage = new Map<string, number>();
  for (const block of blocks) {
    const packageId = firstOf(block, PACKAGE_KEYS);
    const cores = Number.parseInt(block.get("cpu cores") ?? "", 10);
    if (packageId !== undefined && Number.isInteger(cores)) coresPerPackage.set(packageId, cores);
  }
  let sum = 0;
  for (const cores of coresPerPackage.values()) sum += cores;
  return sum;
}

function distinctCores(blocks: readonly CpuinfoBlock[]): number {
  const cores = new Set<string>();
  for (const block of blocks) {
    const packageId = firstOf(block, PACKAGE_KEYS);
    const coreId = firstOf(block, CORE_KEYS);
    if (packageId !== undefined && coreId !== undefined) cores.add(`${packageId}/${coreId}`);
  }
  return cores.size;
}

/** Physical cores from cpuinfo: `cpu cores` summed over distinct `physical id`s, else distinct (package, core) pairs; null if neither. */
export function physicalCoresFromCpuinfo(blocks: readonly CpuinfoBlock[]): number | null {
  return sumOfCoresPerPackage(blocks) || distinctCores(blocks) || null;
}
