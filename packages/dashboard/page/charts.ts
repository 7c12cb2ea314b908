import uPlot from "uplot";
import { densePaths } from "./dense-path.js";
import { h } from "./dom.js";

export interface LineSeries {
  label: string;
  values: (number | null)[];
  /** Legend text for one value (default: `format`). */
  legend?: (value: number | null, index: number) => string;
  /** Thin, faint and left out of a long legend (per-core lines). */
  minor?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  time: number[];
  series: LineSeries[];
  format: (value: number | null) => string;
  /** Fixed y range (0-100 for percentages); otherwise fitted to the data. */
  range?: [number, number];
  /** The x axis spans the whole requested range (unix seconds), so missing samples show as such. */
  span: [number, number];
}

const PALETTE = ["#2f7ed8", "#e4572e", "#29a36a", "#a45ee5", "#f0a202", "#17becf", "#d62d8f", "#7f7f7f", "#8c564b", "#4c9a2a"];

function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function chartHeight(): number {
  return window.matchMedia("(max-width: 600px)").matches ? 180 : 220;
}

/** Every chart on the page, so a resize or a switch of light/dark reaches them all. */
const live = new Set<{ plot: uPlot; box: HTMLElement }>();

export function destroyCharts(): void {
  for (const { plot } of live) plot.destroy();
  live.clear();
}

// The root's size changes whenever content is added (its height), and once when observation starts: only
// a chart whose box really changed size is resized, since uPlot redraws on every setSize.
new ResizeObserver(() => {
  const height = chartHeight();
  for (const { plot, box } of live) {
    const width = box.clientWidth;
    if (width > 0 && (width !== plot.width || height !== plot.height)) plot.setSize({ width, height });
  }
}).observe(document.documentElement);

function options(spec: ChartSpec, width: number): uPlot.Options {
  const axisColor = cssColor("--muted");
  const gridColor = cssColor("--grid");
  let colorIndex = 0;
  const axis = (values?: uPlot.Axis["values"]): uPlot.Axis => ({ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, ...(values ? { values } : {}) });
  return {
    width,
    height: chartHeight(),
    cursor: { drag: { x: false, y: false } },
    // Until the pointer is over the chart, the legend shows the newest values (after the first draw, which resets it).
    hooks: { ready: [(self) => self.setLegend({ idx: spec.time.length - 1 })] },
    scales: { x: { time: true, range: spec.span }, y: spec.range ? { range: spec.range } : { range: (_self, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) } },
    axes: [
      axis(),
      {
        ...axis((_self, splits) => splits.map((value) => spec.format(value))),
        // Wide enough for the longest label ("2596 MHz"): about 8 px a character at the axis font.
        size: (_self, values) => 20 + 8 * Math.max(4, ...(values ?? []).map((value) => value.length)),
      },
    ],
    series: [
      {},
      ...spec.series.map((line): uPlot.Series => {
        const color = PALETTE[colorIndex++ % PALETTE.length] as string;
        return {
          label: line.label,
          stroke: line.minor ? `${color}88` : color,
          width: line.minor ? 1 : 2,
          class: line.minor ? "minor" : "major",
          points: { show: false },
          paths: densePaths,
          value: (_self, value, _series, index) => (line.legend && index !== null ? line.legend(value ?? null, index) : spec.format(value ?? null)),
        };
      }),
    ],
  };
}

/** A chart's section in the page, its plot not drawn yet (drawCharts). */
export interface PlacedChart {
  spec: ChartSpec;
  section: HTMLElement;
  box: HTMLElement;
}

/** A time-series chart's section (title, and a box for the plot); `data-series` counts its lines (for people and tests). */
export function chart(spec: ChartSpec, container: HTMLElement): PlacedChart {
  const box = h("div", { class: "plot" });
  const minor = spec.series.filter((line) => line.minor).length;
  const section = h("section", { class: `chart${minor > 8 ? " many-minor" : ""}`, "data-chart": spec.id, "data-series": String(spec.series.length) }, h("h3", {}, spec.title), box);
  container.append(section);
  return { spec, section, box };
}

/**
 * Draws placed charts with uPlot. Every box's width is read before the first plot is made: one layout
 * for all, not one per chart (each plot added to the page would otherwise lay it out again).
 */
export function drawCharts(placed: PlacedChart[]): void {
  const widths = placed.map(({ box }) => box.clientWidth);
  placed.forEach(({ spec, box }, index) => {
    const data: uPlot.AlignedData = [spec.time, ...spec.series.map((line) => line.values)];
    const plot = new uPlot(options(spec, Math.max(widths[index] as number, 280)), data, box);
    live.add({ plot, box });
  });
}
