import { test } from "node:test";
import assert from "node:assert/strict";
import { cpuinfoMhz, parseCpuinfo, physicalCoresFromCpuinfo } from "../src/cpuinfo.js";

const X86 = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
cpu MHz\t\t: 2100.000
physical id\t: 0
siblings\t: 4
core id\t\t: 0
cpu cores\t: 2
flags\t\t: fpu vme de pse tsc msr

processor\t: 1
cpu MHz\t\t: 1000.500
physical id\t: 0
core id\t\t: 1
cpu cores\t: 2

processor\t: 2
cpu MHz\t\t: 3899.998
physical id\t: 1
core id\t\t: 0
cpu cores\t: 2

processor\t: 3
cpu MHz\t\t: 800.002
physical id\t: 1
core id\t\t: 1
cpu cores\t: 2
`;

const S390X = `vendor_id       : IBM/S390
# processors    : 2
processor 0: version = 00,  identification = 0C2E28,  machine = 3906
processor 1: version = 00,  identification = 0C2E28,  machine = 3906

cpu number      : 0
physical id     : 3
core id         : 0
cpu cores       : 1
cpu MHz dynamic : 4500
cpu MHz static  : 5200

cpu number      : 1
physical id     : 3
core id         : 0
cpu cores       : 1
cpu MHz dynamic : 4600
cpu MHz static  : 5200
`;

const PPC64 = "processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\nclock\t\t: 2750.000000MHz\nrevision\t: 2.2 (pvr 004e 1202)\n\nprocessor\t: 1\ncpu\t\t: POWER9 (architected), altivec supported\nclock\t\t: 3800.000000MHz\n\ntimebase\t: 512000000\nplatform\t: pSeries\n";

const LOONG64 = "processor\t\t: 0\npackage\t\t\t: 0\ncore\t\t\t: 0\nModel Name\t\t: Loongson-3A6000\nCPU MHz\t\t\t: 2000.00\n\nprocessor\t\t: 1\npackage\t\t\t: 0\ncore\t\t\t: 1\nModel Name\t\t: Loongson-3A6000\nCPU MHz\t\t\t: 2000.00\n";

const ARMV7_LEGACY = "Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\nBogoMIPS\t: 1920.00\n\nprocessor\t: 1\nBogoMIPS\t: 1920.00\n\nFeatures\t: swp half thumb fastmult vfp edsp neon vfpv3 tls vfpv4\nHardware\t: sun7i\nRevision\t: 0000";

const MIPS = "system type\t\t: EdgeRouter\nprocessor\t\t: 0\ncpu model\t\t: Cavium Octeon II V0.1\nBogoMIPS\t\t: 2000.00\ncore\t\t\t: 0\n\nprocessor\t\t: 1\ncpu model\t\t: Cavium Octeon II V0.1\ncore\t\t\t: 1\n";

const RISCV = "processor\t: 0\nhart\t\t: 1\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\n\nprocessor\t: 1\nhart\t\t: 2\nisa\t\t: rv64imafdc\n";

test("parseCpuinfo splits blocks on blank lines and keys on the first colon, trimmed (tabs or spaces)", () => {
  const blocks = parseCpuinfo(S390X);
  assert.equal(blocks.length, 3);
  assert.equal(blocks[0]?.get("# processors"), "2");
  assert.equal(blocks[0]?.get("processor 0"), "version = 00,  identification = 0C2E28,  machine = 3906");
  assert.equal(blocks[1]?.get("cpu MHz dynamic"), "4500");
  assert.equal(parseCpuinfo(X86)[0]?.get("model name"), "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz");
});

test("parseCpuinfo keeps a last block without a trailing newline", () => {
  const blocks = parseCpuinfo(ARMV7_LEGACY);
  assert.equal(blocks.at(-1)?.get("Revision"), "0000");
});

test("cpuinfoMhz reads x86 `cpu MHz`, loong64 `CPU MHz`, ppc64 `clock` and s390x `cpu MHz dynamic` only", () => {
  assert.deepEqual(cpuinfoMhz(X86), [2100, 1000.5, 3899.998, 800.002]);
  assert.deepEqual(cpuinfoMhz(LOONG64), [2000, 2000]);
  assert.deepEqual(cpuinfoMhz(PPC64), [2750, 3800]);
  assert.deepEqual(cpuinfoMhz(S390X), [4500, 4600]);
});

test("cpuinfoMhz finds nothing on ARM, MIPS and RISC-V", () => {
  assert.deepEqual(cpuinfoMhz(ARMV7_LEGACY), []);
  assert.deepEqual(cpuinfoMhz(MIPS), []);
  assert.deepEqual(cpuinfoMhz(RISCV), []);
});

test("physicalCoresFromCpuinfo sums `cpu cores` over distinct physical ids", () => {
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(X86)), 4);
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(S390X)), 1);
});

test("physicalCoresFromCpuinfo falls back to distinct (package, core) pairs", () => {
  const noCpuCores = X86.replace(/cpu cores.*\n/g, "");
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(noCpuCores)), 4);
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(LOONG64)), 2);
});

test("physicalCoresFromCpuinfo is null without package ids (ARM legacy header, MIPS core without package, RISC-V)", () => {
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(ARMV7_LEGACY)), null);
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(MIPS)), null);
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo(RISCV)), null);
  assert.equal(physicalCoresFromCpuinfo(parseCpuinfo("")), null);
});
