import { test } from "node:test";
import assert from "node:assert/strict";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { Runtime, type MetricsDocument } from "@resourcemonitor/runtime";
import { captureLogger, sinkConformance, testSettings } from "@resourcemonitor/runtime/testing";
import prometheusSink, { METRICS } from "../src/index.js";

sinkConformance("sink-prometheus (keeps the latest document)", async () => ({ definition: prometheusSink, options: { port: 0 }, cleanup: async () => undefined }), { keepsEveryDocument: false });

const DOCUMENT: MetricsDocument = {
  timestamp: "2025-08-05T14:30:22Z",
  hostname: "gpu-node-7",
  cpu: {
    usage_percent: 25.4,
    usage_per_core: [20.1, 30.7],
    frequency: { current: 2400.5, min: null, max: 3900 },
    count_logical: 2,
    count_physical: 1,
    temperatures: [
      { sensor: "Package id 0", temperature: 51, high: 80, critical: 100 },
      { sensor: "Core \"0\"", temperature: 49.5, high: null, critical: null },
    ],
  },
  memory: {
    virtual: { total: 16_777_216_000, available: 8_388_608_000, used: 7_340_032_000, percent: 50, free: 1_048_576_000 },
    swap: { total: 0, used: 0, free: 0, percent: 0 },
  },
  gpu: [
    { index: 0, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-8e0c1a9c", memory: { total: 85_520_809_984, used: 1_048_576, free: 85_519_761_408, percent: 0 }, utilization: { gpu: 97, memory: 41 }, temperature: 63, power_usage_watts: 412.5, fan_speed_percent: null },
    { index: 1, name: "NVIDIA H100 80GB HBM3", memory: { total: 85_520_809_984, used: 0, free: 85_520_809_984, percent: 0 }, utilization: { gpu: 0, memory: 0 }, temperature: 31, power_usage_watts: 69.1, fan_speed_percent: null },
  ],
  disk: {
    mounts: [{ device: "/dev/nvme0n1p2", mountpoint: "/", fstype: "ext4", total: 502_468_108_288, used: 211_328_434_176, free: 265_548_009_472, percent: 44.3 }],
    io: [{ device: "nvme0n1", reads: 2_086_740, writes: 4_812_638, read_bytes: 77_746_990_080, write_bytes: 158_922_318_848, reads_per_second: 3.3, writes_per_second: 5, read_bytes_per_second: 85_333.3, write_bytes_per_second: 85_333.3, busy_percent: 1.7 }],
  },
};

async function withEndpoint(work: (scrape: (path?: string) => Promise<Response>, runtime: Runtime) => Promise<void>, options: Record<string, unknown> = { port: 0 }): Promise<void> {
  const { logger, lines } = captureLogger();
  const runtime = new Runtime({ settings: testSettings(), logger });
  runtime.use({ definition: prometheusSink, options });
  await runtime.start();
  try {
    const started = lines.find((line) => typeof line.port === "number");
    assert.equal(started?.address, "127.0.0.1", "bound to loopback unless told otherwise");
    await work((path = "/metrics") => fetch(`http://127.0.0.1:${String(started?.port)}${path}`), runtime);
  } finally {
    await runtime.stop();
  }
}

/** name -> list of [labels, value] as a Prometheus text-format parser reads the scrape. */
async function scrapeFamilies(scrape: (path?: string) => Promise<Response>): Promise<Map<string, ParsedFamily>> {
  const response = await scrape();
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return new Map(parsePrometheusTextFormat(await response.text()).map((family) => [family.name, family]));
}

function samples(families: Map<string, ParsedFamily>, name: string): [Record<string, string>, number][] {
  const family = families.get(name);
  return (family?.metrics ?? []).map((sample) => [sample.labels ?? {}, Number(sample.value)]);
}

test("a scrape over HTTP parses as Prometheus text format, with names, labels and values from the document", () =>
  withEndpoint(async (scrape, runtime) => {
    await runtime.emit(DOCUMENT);
    const families = await scrapeFamilies(scrape);
    assert.deepEqual(samples(families, "resourcemonitor_host_info"), [[{ hostname: "gpu-node-7" }, 1]]);
    assert.deepEqual(samples(families, "resourcemonitor_sample_timestamp_seconds"), [[{}, Date.parse("2025-08-05T14:30:22Z") / 1000]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_usage_percent"), [[{}, 25.4]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_core_usage_percent"), [[{ core: "0" }, 20.1], [{ core: "1" }, 30.7]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_frequency_hertz"), [[{}, 2_400_500_000]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_frequency_max_hertz"), [[{}, 3_900_000_000]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_frequency_min_hertz"), [], "null: no series");
    assert.deepEqual(samples(families, "resourcemonitor_cpu_temperature_celsius"), [[{ sensor: "Package id 0" }, 51], [{ sensor: 'Core "0"' }, 49.5]]);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_temperature_critical_celsius"), [[{ sensor: "Package id 0" }, 100]]);
    assert.deepEqual(samples(families, "resourcemonitor_memory_virtual_total_bytes"), [[{}, 16_777_216_000]]);
    assert.deepEqual(samples(families, "resourcemonitor_memory_virtual_used_percent"), [[{}, 50]]);
    assert.deepEqual(samples(families, "resourcemonitor_memory_swap_total_bytes"), [[{}, 0]]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_power_watts"), [
      [{ gpu: "0", uuid: "GPU-8e0c1a9c", name: "NVIDIA H100 80GB HBM3" }, 412.5],
      [{ gpu: "1", uuid: "", name: "NVIDIA H100 80GB HBM3" }, 69.1],
    ]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_memory_total_bytes").map(([, value]) => value), [85_520_809_984, 85_520_809_984]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_utilization_percent").map(([, value]) => value), [97, 0]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_temperature_celsius").map(([, value]) => value), [63, 31]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_fan_speed_percent"), []);
    assert.deepEqual(samples(families, "resourcemonitor_disk_used_percent"), [[{ device: "/dev/nvme0n1p2", mountpoint: "/", fstype: "ext4" }, 44.3]]);
    assert.deepEqual(samples(families, "resourcemonitor_disk_read_bytes_total"), [[{ device: "nvme0n1" }, 77_746_990_080]]);
    assert.equal(families.get("resourcemonitor_disk_read_bytes_total")?.type, "COUNTER");
    assert.equal(families.get("resourcemonitor_gpu_power_watts")?.type, "GAUGE");
    const unknown = ["resourcemonitor_cpu_frequency_min_hertz", "resourcemonitor_gpu_fan_speed_percent"];
    assert.deepEqual([...families.keys()].sort(), METRICS.map((metric) => metric.name).filter((name) => !unknown.includes(name)).sort(), "every metric with a value, with HELP and TYPE");
    assert.ok([...families.values()].every((family) => family.help.length > 0));
  }));

test("metric names follow Prometheus conventions: snake_case, a unit suffix where there is a unit, _total only on counters", () => {
  for (const { name, type } of METRICS) {
    assert.match(name, /^resourcemonitor_[a-z][a-z0-9_]*$/, name);
    assert.equal(name.endsWith("_total"), type === "counter", name);
    assert.doesNotMatch(name, /_(mhz|megabytes|kb|ms|celcius|percentage)(_|$)/, name);
  }
  const unitless = METRICS.map(({ name }) => name).filter((name) => !/_(bytes|celsius|watts|hertz|percent|seconds|total|info|cpus|cores)$/.test(name));
  assert.deepEqual(unitless, []);
});

test("each scrape shows the latest document only: a GPU or mount that went away leaves no stale series", () =>
  withEndpoint(async (scrape, runtime) => {
    await runtime.emit(DOCUMENT);
    await runtime.emit({ ...DOCUMENT, timestamp: "2025-08-05T14:31:22Z", gpu: [], disk: { mounts: [], io: [] }, cpu: { ...(DOCUMENT.cpu as object), usage_percent: 3.5 } });
    const families = await scrapeFamilies(scrape);
    assert.deepEqual(samples(families, "resourcemonitor_cpu_usage_percent"), [[{}, 3.5]]);
    assert.deepEqual(samples(families, "resourcemonitor_gpu_power_watts"), []);
    assert.deepEqual(samples(families, "resourcemonitor_disk_size_bytes"), []);
  }));

test("other paths are 404, other methods 405; the endpoint answers before the first document with no series", () =>
  withEndpoint(async (scrape) => {
    assert.equal((await scrape("/")).status, 404);
    const post = await fetch((await scrape()).url, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.deepEqual([...(await scrapeFamilies(scrape)).keys()], [], "no document yet: no series at all, not zeros");
  }));

test("a port in use stops the start with a message saying so", async () => {
  await withEndpoint(async (scrape) => {
    const port = Number(new URL((await scrape()).url).port);
    const { logger } = captureLogger();
    const second = new Runtime({ settings: testSettings(), logger });
    second.use({ definition: prometheusSink, options: { port } });
    await assert.rejects(second.start(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
  });
});
