import { Counter, Gauge, Registry } from "prom-client";
import type { MetricsDocument } from "@resourcemonitor/runtime";

type Labels = Record<string, string>;
type Series = { labels: Labels; value: number };

/**
 * One metric of the document: a Prometheus name following its conventions (base units in the name: `_bytes`,
 * `_celsius`, `_watts`, `_hertz`; `_percent` for 0-100 shares; `_total` for counters) and how to read its series
 * from a document. A value the document has as null gives no series: Prometheus has no null, absence is "unknown".
 */
interface MetricSpec {
  name: string;
  help: string;
  type?: "gauge" | "counter";
  labelNames?: string[];
  read(document: Doc): Series[];
}

/** The document as the sink reads it: every part optional, since any collector may be switched off. */
interface Doc {
  hostname?: string;
  timestamp?: string;
  cpu?: {
    usage_percent?: number | null;
    usage_per_core?: number[];
    frequency?: { current?: number | null; min?: number | null; max?: number | null };
    count_logical?: number | null;
    count_physical?: number | null;
    temperatures?: { sensor: string; temperature: number | null; high: number | null; critical: number | null }[];
  };
  memory?: Record<"virtual" | "swap", Partial<Record<"total" | "available" | "used" | "free" | "percent", number | null>> | undefined>;
  gpu?: {
    index: number;
    name?: string;
    uuid?: string;
    memory?: Partial<Record<"total" | "used" | "free" | "percent", number | null>>;
    utilization?: { gpu?: number | null; memory?: number | null };
    temperature?: number | null;
    power_usage_watts?: number | null;
    fan_speed_percent?: number | null;
  }[];
  disk?: {
    mounts?: { device: string; mountpoint: string; fstype: string; total: number | null; used: number | null; free: number | null; percent: number | null }[];
    io?: ({ device: string } & Record<string, number | null | string>)[];
  };
}

function one(value: number | null | undefined, labels: Labels = {}): Series[] {
  return typeof value === "number" && Number.isFinite(value) ? [{ labels, value }] : [];
}

const memory = (part: "virtual" | "swap", field: "total" | "available" | "used" | "free"): MetricSpec => ({
  name: `resourcemonitor_memory_${part}_${field}_bytes`,
  help: `memory.${part}.${field}: ${part === "virtual" ? "RAM" : "swap"} ${field}, bytes.`,
  read: (doc) => one(doc.memory?.[part]?.[field]),
});

const gpuLabels = ["gpu", "uuid", "name"];
const gpu = (name: string, help: string, value: (entry: NonNullable<Doc["gpu"]>[number]) => number | null | undefined): MetricSpec => ({
  name: `resourcemonitor_gpu_${name}`,
  help,
  labelNames: gpuLabels,
  read: (doc) => (doc.gpu ?? []).flatMap((entry) => one(value(entry), { gpu: String(entry.index), uuid: entry.uuid ?? "", name: entry.name ?? "" })),
});

const temperature = (field: "temperature" | "high" | "critical", name: string): MetricSpec => ({
  name,
  help: `cpu.temperatures[].${field}, degrees Celsius, per sensor.`,
  labelNames: ["sensor"],
  read: (doc) => (doc.cpu?.temperatures ?? []).flatMap((entry) => one(entry[field], { sensor: entry.sensor })),
});

const mountLabels = ["device", "mountpoint", "fstype"];
const mount = (field: "total" | "used" | "free" | "percent", name: string, help: string): MetricSpec => ({
  name,
  help,
  labelNames: mountLabels,
  read: (doc) => (doc.disk?.mounts ?? []).flatMap((entry) => one(entry[field], { device: entry.device, mountpoint: entry.mountpoint, fstype: entry.fstype })),
});

const io = (field: string, name: string, help: string, type: "gauge" | "counter" = "gauge"): MetricSpec => ({
  name,
  help,
  type,
  labelNames: ["device"],
  read: (doc) => (doc.disk?.io ?? []).flatMap((entry) => one(typeof entry[field] === "number" ? (entry[field] as number) : null, { device: entry.device })),
});

const MHZ = 1e6;

export const METRICS: MetricSpec[] = [
  { name: "resourcemonitor_host_info", help: "Always 1; the hostname the agent reports as.", labelNames: ["hostname"], read: (doc) => one(1, { hostname: doc.hostname ?? "" }) },
  { name: "resourcemonitor_sample_timestamp_seconds", help: "timestamp: start of the sample's slot, Unix seconds.", read: (doc) => one(doc.timestamp ? Date.parse(doc.timestamp) / 1000 : null) },
  { name: "resourcemonitor_cpu_usage_percent", help: "cpu.usage_percent: busy share of all CPUs over the last interval, percent.", read: (doc) => one(doc.cpu?.usage_percent) },
  { name: "resourcemonitor_cpu_core_usage_percent", help: "cpu.usage_per_core[]: busy share per CPU, percent.", labelNames: ["core"], read: (doc) => (doc.cpu?.usage_per_core ?? []).flatMap((value, core) => one(value, { core: String(core) })) },
  { name: "resourcemonitor_cpu_frequency_hertz", help: "cpu.frequency.current: mean CPU clock, hertz.", read: (doc) => one(doc.cpu?.frequency?.current && doc.cpu.frequency.current * MHZ) },
  { name: "resourcemonitor_cpu_frequency_min_hertz", help: "cpu.frequency.min: lowest clock the CPUs may run at, hertz.", read: (doc) => one(doc.cpu?.frequency?.min && doc.cpu.frequency.min * MHZ) },
  { name: "resourcemonitor_cpu_frequency_max_hertz", help: "cpu.frequency.max: highest clock the CPUs may run at, hertz.", read: (doc) => one(doc.cpu?.frequency?.max && doc.cpu.frequency.max * MHZ) },
  { name: "resourcemonitor_cpu_logical_cpus", help: "cpu.count_logical: online logical CPUs.", read: (doc) => one(doc.cpu?.count_logical) },
  { name: "resourcemonitor_cpu_physical_cores", help: "cpu.count_physical: physical cores.", read: (doc) => one(doc.cpu?.count_physical) },
  temperature("temperature", "resourcemonitor_cpu_temperature_celsius"),
  temperature("high", "resourcemonitor_cpu_temperature_high_celsius"),
  temperature("critical", "resourcemonitor_cpu_temperature_critical_celsius"),
  memory("virtual", "total"),
  memory("virtual", "available"),
  memory("virtual", "used"),
  memory("virtual", "free"),
  { name: "resourcemonitor_memory_virtual_used_percent", help: "memory.virtual.percent: RAM in use, percent.", read: (doc) => one(doc.memory?.virtual?.percent) },
  memory("swap", "total"),
  memory("swap", "used"),
  memory("swap", "free"),
  { name: "resourcemonitor_memory_swap_used_percent", help: "memory.swap.percent: swap in use, percent.", read: (doc) => one(doc.memory?.swap?.percent) },
  gpu("memory_total_bytes", "gpu[].memory.total: GPU memory, bytes.", (entry) => entry.memory?.total),
  gpu("memory_used_bytes", "gpu[].memory.used: GPU memory in use, bytes.", (entry) => entry.memory?.used),
  gpu("memory_free_bytes", "gpu[].memory.free: GPU memory free, bytes.", (entry) => entry.memory?.free),
  gpu("memory_used_percent", "gpu[].memory.percent: GPU memory in use, percent.", (entry) => entry.memory?.percent),
  gpu("utilization_percent", "gpu[].utilization.gpu: share of time a kernel ran, percent.", (entry) => entry.utilization?.gpu),
  gpu("memory_utilization_percent", "gpu[].utilization.memory: share of time memory was read or written, percent.", (entry) => entry.utilization?.memory),
  gpu("temperature_celsius", "gpu[].temperature: GPU core temperature, degrees Celsius.", (entry) => entry.temperature),
  gpu("power_watts", "gpu[].power_usage_watts: power draw, watts.", (entry) => entry.power_usage_watts),
  gpu("fan_speed_percent", "gpu[].fan_speed_percent: fan speed, percent of maximum.", (entry) => entry.fan_speed_percent),
  mount("total", "resourcemonitor_disk_size_bytes", "disk.mounts[].total: file system size, bytes."),
  mount("used", "resourcemonitor_disk_used_bytes", "disk.mounts[].used: used, bytes."),
  mount("free", "resourcemonitor_disk_free_bytes", "disk.mounts[].free: free for unprivileged users, bytes."),
  mount("percent", "resourcemonitor_disk_used_percent", "disk.mounts[].percent: used / (used + free), percent."),
  io("reads", "resourcemonitor_disk_reads_total", "disk.io[].reads: reads completed since boot.", "counter"),
  io("writes", "resourcemonitor_disk_writes_total", "disk.io[].writes: writes completed since boot.", "counter"),
  io("read_bytes", "resourcemonitor_disk_read_bytes_total", "disk.io[].read_bytes: bytes read since boot.", "counter"),
  io("write_bytes", "resourcemonitor_disk_written_bytes_total", "disk.io[].write_bytes: bytes written since boot.", "counter"),
  io("busy_percent", "resourcemonitor_disk_busy_percent", "disk.io[].busy_percent: share of the last interval with I/O in flight, percent."),
];

/** A prom-client registry holding the metrics of the latest document; `update` replaces every series. Metrics join it when they have a value. */
export class DocumentMetrics {
  readonly registry = new Registry();
  private readonly metrics: { spec: MetricSpec; metric: Gauge | Counter }[];

  constructor() {
    this.metrics = METRICS.map((spec) => {
      const config = { name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [] };
      return { spec, metric: spec.type === "counter" ? new Counter(config) : new Gauge(config) };
    });
  }

  update(document: MetricsDocument): void {
    for (const { spec, metric } of this.metrics) {
      // reset() drops series of the previous document (a GPU or mount that went away) instead of repeating stale values.
      metric.reset();
      const series = spec.read(document as Doc);
      for (const { labels, value } of series) {
        if (metric instanceof Counter) metric.inc(labels, value);
        else metric.set(labels, value);
      }
      // prom-client shows a metric without labels as 0 when it has no value; unknown must be absent, not 0.
      const registered = this.registry.getSingleMetric(spec.name) !== undefined;
      if (series.length === 0 && registered) this.registry.removeSingleMetric(spec.name);
      if (series.length > 0 && !registered) this.registry.registerMetric(metric);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
