import type { HistoryResponse, RangeName } from "../src/api-types.js";
import { hottest, summarize, type DocumentSummary } from "../src/extract.js";
import { chart, destroyCharts, drawCharts, type ChartSpec, type PlacedChart } from "./charts.js";
import { h, none } from "./dom.js";
import { age, celsius, gib, mhz, percent, watts } from "./format.js";

export const RANGE_LABELS: Record<RangeName, string> = { "15m": "15 min", "1h": "1 h", "6h": "6 h", "24h": "24 h" };

function facts(latest: DocumentSummary | null): string {
  if (!latest) return "no latest document";
  const parts = [
    latest.perCore.length > 0 ? `${latest.perCore.length} cores` : null,
    latest.frequencyMhz !== null ? mhz(latest.frequencyMhz) : null,
    `RAM ${gib(latest.memoryTotalBytes)}`,
    `swap ${gib(latest.swapTotalBytes)}`,
    latest.temperatures.length > 0 ? `hottest ${celsius(hottest(latest.temperatures)?.celsius)}` : "sensors: none",
    latest.gpus.length > 0 ? latest.gpus.map((gpu) => `GPU ${gpu.index} ${gpu.name ?? ""}`.trim()).join(", ") : "GPUs: none",
  ];
  return parts.filter(Boolean).join(" · ");
}

function header(host: string, latestDocument: unknown, history: HistoryResponse, range: RangeName, onRange: (range: RangeName) => void): HTMLElement {
  const latest = latestDocument === undefined ? null : summarize(latestDocument);
  const seenAt = latest?.timestamp ? Date.parse(latest.timestamp) : NaN;
  const ageSeconds = Number.isNaN(seenAt) ? null : Math.max(0, (Date.now() - seenAt) / 1000);
  const stale = ageSeconds === null || ageSeconds > history.staleAfterSeconds;
  const status = stale ? "stale" : "online";
  const buttons = (Object.keys(RANGE_LABELS) as RangeName[]).map((name) => {
    const button = h("button", { type: "button", "data-range": name, "aria-pressed": String(name === range) }, RANGE_LABELS[name]);
    button.addEventListener("click", () => onRange(name));
    return button;
  });
  return h(
    "div",
    { class: "host-head" },
    h("h2", {}, host, " ", h("span", { class: `badge ${status}` }, status)),
    h("p", { class: "facts" }, `last sample ${age(ageSeconds)} · ${facts(latest)}`),
    h("div", { class: "ranges", role: "group", "aria-label": "time range" }, ...buttons),
  );
}

type Span = Pick<ChartSpec, "time" | "span">;

function gpuCharts(history: HistoryResponse, { time, span }: Span): ChartSpec[] {
  const label = (gpu: HistoryResponse["gpus"][number]) => `GPU ${gpu.index}${gpu.name ? ` ${gpu.name}` : ""}`;
  return [
    { id: "gpu-util", title: "GPU utilization", time, span, format: percent, range: [0, 100], series: history.gpus.map((gpu) => ({ label: label(gpu), values: gpu.utilizationPercent })) },
    {
      id: "gpu-vram",
      title: "GPU memory (VRAM)",
      time,
      span,
      format: percent,
      range: [0, 100],
      series: history.gpus.map((gpu) => ({
        label: `${label(gpu)} of ${gib(gpu.memoryTotalBytes)}`,
        values: gpu.memoryPercent,
        legend: (value, index) => `${percent(value)} (${gib(gpu.memoryUsedBytes[index])})`,
      })),
    },
    { id: "gpu-temp", title: "GPU temperature", time, span, format: celsius, series: history.gpus.map((gpu) => ({ label: label(gpu), values: gpu.temperatureCelsius })) },
    { id: "gpu-power", title: "GPU power", time, span, format: watts, series: history.gpus.map((gpu) => ({ label: label(gpu), values: gpu.powerWatts })) },
  ];
}

function charts(history: HistoryResponse, grid: HTMLElement): void {
  const { time, cpu, memory, temperatures } = history;
  const span: [number, number] = [Date.parse(history.from) / 1000, Date.parse(history.to) / 1000];
  const placed: PlacedChart[] = [];
  const add = (spec: ChartSpec) => void placed.push(chart(spec, grid));
  if (cpu) {
    add({
      id: "cpu",
      title: "CPU usage, total and per core",
      time,
      span,
      format: percent,
      range: [0, 100],
      series: [{ label: "total", values: cpu.total }, ...cpu.cores.map((values, core) => ({ label: `core ${core}`, values, minor: true }))],
    });
    if (cpu.frequencyMhz.some((value) => value !== null)) add({ id: "cpu-freq", title: "CPU frequency", time, span, format: mhz, series: [{ label: "current", values: cpu.frequencyMhz }] });
  } else grid.append(none("CPU"));
  if (memory) {
    add({
      id: "memory",
      title: `Memory (${gib(memory.totalBytes)}) and swap (${gib(memory.swapTotalBytes)})`,
      time,
      span,
      format: percent,
      range: [0, 100],
      series: [
        { label: "RAM", values: memory.percent, legend: (value, index) => `${percent(value)} (${gib(memory.usedBytes[index])})` },
        { label: "swap", values: memory.swapPercent, legend: (value, index) => `${percent(value)} (${gib(memory.swapUsedBytes[index])})` },
      ],
    });
  } else grid.append(none("Memory"));
  if (temperatures) {
    add({ id: "temperatures", title: "CPU temperatures", time, span, format: celsius, series: temperatures.sensors.map((sensor, index) => ({ label: sensor, values: temperatures.celsius[index] ?? [] })) });
  } else grid.append(none("CPU temperature sensors"));
  if (history.gpus.length === 0) grid.append(none("GPUs"));
  else for (const spec of gpuCharts(history, { time, span })) add(spec);
  drawCharts(placed);
}

/** The host view: header, range switch and every chart the host's documents have data for. */
export function renderHost(container: HTMLElement, host: string, latestDocument: unknown, history: HistoryResponse, range: RangeName, onRange: (range: RangeName) => void): void {
  destroyCharts();
  const grid = h("div", { class: "charts" });
  const span = history.time.length > 0 ? `${history.time.length} samples${history.stepSeconds > 0 ? `, one per ${history.stepSeconds} s` : ""}` : "";
  container.replaceChildren(
    h("p", { class: "back" }, h("a", { href: "#/" }, "← all hosts")),
    header(host, latestDocument, history, range, onRange),
    h("p", { class: "summary", "data-points": String(history.time.length) }, history.time.length > 0 ? span : `No samples in the last ${RANGE_LABELS[range]}.`),
    grid,
  );
  if (history.time.length > 0) charts(history, grid);
}
