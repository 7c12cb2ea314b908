import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isoSecond, writeSample, type ObjectStore } from "@resourcemonitor/layout";

const AGENT_BIN = fileURLToPath(new URL("../../agent/bin/resourcemonitor.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

export interface Gpu {
  index: number;
  name: string;
  uuid: string;
  pci_bus_id: string;
  memory: { total: number; used: number; free: number; percent: number };
  utilization: { gpu: number | null; memory: number | null };
  temperature: number | null;
  power_usage_watts: number | null;
  fan_speed_percent: number | null;
}

/** The document as DESIGN.md defines it (the fields the dashboard reads). */
export interface Doc {
  timestamp: string;
  hostname: string;
  cpu: {
    usage_percent: number;
    usage_per_core: number[];
    frequency: { current: number | null; min: number | null; max: number | null };
    temperatures: { sensor: string; temperature: number | null; high: number | null; critical: number | null }[];
  };
  memory: {
    virtual: { total: number; available: number; used: number; percent: number; free: number };
    swap: { total: number; used: number; free: number; percent: number };
  };
  gpu?: Gpu[];
}

/** One real document from `resourcemonitor once`: this machine's /proc, and the fixture sysfs with 3 coretemp sensors, or none. */
async function agentOnce(sensors: boolean): Promise<Doc> {
  const { S3_BUCKET_NAME: _bucket, UPLOAD_FREQUENCY_SECONDS: _interval, HOSTNAME_OVERRIDE: _host, ...env } = process.env;
  const sysfs = join(FIXTURES, sensors ? "sys" : "sys-none");
  const { stdout } = await promisify(execFile)(process.execPath, [AGENT_BIN, "once", "--hostname", "seed", "--sysfs", sysfs, "--log-level", "warn"], {
    env: { ...env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env" },
  });
  return JSON.parse(stdout) as Doc;
}

let documents: Promise<{ withSensors: Doc; withoutSensors: Doc }> | undefined;

/** The two agent documents every seed starts from (taken once per test process). */
export function agentDocuments(): Promise<{ withSensors: Doc; withoutSensors: Doc }> {
  documents ??= Promise.all([agentOnce(true), agentOnce(false)]).then(([withSensors, withoutSensors]) => ({ withSensors, withoutSensors }));
  return documents;
}

/** Two GPUs as plugin-nvidia reports them: the second has no fan (null) and idles. */
export function twoGpus(step: number): Gpu[] {
  const gib = 1024 ** 3;
  return [
    {
      index: 0,
      name: "NVIDIA GeForce RTX 4090",
      uuid: "GPU-11111111-2222-3333-4444-555555555555",
      pci_bus_id: "00000000:01:00.0",
      memory: { total: 24 * gib, used: 6 * gib + step * 1024 ** 2, free: 18 * gib - step * 1024 ** 2, percent: Math.round(((6 * gib + step * 1024 ** 2) / (24 * gib)) * 1000) / 10 },
      utilization: { gpu: 40 + (step % 50), memory: 20 },
      temperature: 60 + (step % 10),
      power_usage_watts: 250.5 + step,
      fan_speed_percent: 45,
    },
    {
      index: 1,
      name: "NVIDIA A100-PCIE-40GB",
      uuid: "GPU-66666666-7777-8888-9999-000000000000",
      pci_bus_id: "00000000:02:00.0",
      memory: { total: 40 * gib, used: 0, free: 40 * gib, percent: 0 },
      utilization: { gpu: 0, memory: 0 },
      temperature: 35,
      power_usage_watts: 38.25,
      fan_speed_percent: null,
    },
  ];
}

export interface SeededHost {
  documents: Doc[];
  /** The last document: `<host>.json`. */
  latest: Doc;
}

export interface Seeded {
  now: number;
  hosts: Record<"alpha" | "gpu2" | "nosensor" | "old", SeededHost>;
  /** Under the prefix `legacy/`: list.json is the old array ["alpha", "ghost"]; ghost has no documents. */
  legacyPrefix: string;
}

function sampleOf(base: Doc, host: string, time: number, edit: (doc: Doc, step: number) => void, step: number): Doc {
  const doc = structuredClone(base);
  doc.hostname = host;
  doc.timestamp = isoSecond(new Date(time));
  edit(doc, step);
  return doc;
}

async function writeHost(store: ObjectStore, host: string, base: Doc, times: number[], edit: (doc: Doc, step: number) => void, prefix = ""): Promise<SeededHost> {
  const docs = times.map((time, step) => sampleOf(base, host, time, edit, step));
  for (const doc of docs) await writeSample(store, doc, JSON.stringify(doc), { now: new Date(doc.timestamp), prefix });
  return { documents: docs, latest: docs.at(-1) as Doc };
}

const every = (count: number, seconds: number, end: number) => Array.from({ length: count }, (_, index) => end - (count - 1 - index) * seconds * 1000);

/**
 * A fleet in `store`, written with the layout's own writeSample as the sinks do: alpha (sensors, 60
 * samples every 10 s, plus one 3 h ago), gpu2 (2 GPUs, 30 samples every 20 s), nosensor (no sensors,
 * 10 samples), old (stopped 2 h ago: gone from list.json), and a legacy list.json under `legacy/`.
 */
export async function seedFleet(store: ObjectStore): Promise<Seeded> {
  const { withSensors, withoutSensors } = await agentDocuments();
  const now = Math.floor(Date.now() / 1000) * 1000;
  const cpu = (percent: (step: number) => number) => (doc: Doc, step: number) => {
    doc.cpu.usage_percent = percent(step);
    doc.cpu.usage_per_core = doc.cpu.usage_per_core.map((_: number, core: number) => (percent(step) + core * 3) % 100);
  };
  const old = await writeHost(store, "old", withSensors, every(5, 60, now - 2 * 3600_000), cpu(() => 5));
  const alphaTimes = [now - 3 * 3600_000, ...every(60, 10, now - 5_000)];
  const alpha = await writeHost(store, "alpha", withSensors, alphaTimes, cpu((step) => 10 + step));
  const gpu2 = await writeHost(store, "gpu2", withSensors, every(30, 20, now - 2_000), (doc, step) => {
    cpu(() => 90.5)(doc, step);
    doc.gpu = twoGpus(step);
  });
  const nosensor = await writeHost(store, "nosensor", withoutSensors, every(10, 30, now - 1_000), cpu(() => 42));
  await writeHost(store, "alpha", withSensors, [now - 4_000], cpu(() => 33), "legacy/");
  await store.put("legacy/list.json", '["alpha", "ghost"]');
  return { now, hosts: { alpha, gpu2, nosensor, old }, legacyPrefix: "legacy/" };
}

export async function tempDir(prefix = "rm-dashboard-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
