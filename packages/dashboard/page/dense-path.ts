import uPlot from "uplot";

/**
 * uPlot's linear line, built faster where a series has at least 4 samples per pixel (an hour at 1 s in a
 * chart a few hundred pixels wide). There uPlot's own builder draws, per pixel column, the first value and
 * the column's minimum, maximum and last, so every sample still shows; this one draws exactly the same
 * points in the same order (tested against uPlot's), with the scale arithmetic written out instead of
 * calling uPlot's per-value helpers, which cost ~2 ms per 3600-sample series in a freshly loaded page.
 * Anything else (fewer samples, a gap, a fill, another scale kind) is left to uPlot's builder.
 */
const linear = uPlot.paths.linear?.() as uPlot.Series.PathBuilder;

/** uPlot's drawAccH: a pixel column's extremes (unless the line comes in or goes out there), then its last value. */
function column(stroke: Path2D, x: number, low: number, high: number, first: number, last: number): void {
  if (low === high) return;
  if (first !== low && last !== low) stroke.lineTo(x, low);
  if (first !== high && last !== high) stroke.lineTo(x, high);
  stroke.lineTo(x, last);
}

/** The series' fill as uPlot resolves it (uPlot makes every fill a function; no fill is one returning null). */
function fillOf(u: uPlot, seriesIdx: number): unknown {
  const { fill } = u.series[seriesIdx] as { fill?: unknown };
  return typeof fill === "function" ? (fill as (self: uPlot, index: number) => unknown)(u, seriesIdx) : fill;
}

export const densePaths: uPlot.Series.PathBuilder = (u, seriesIdx, idx0, idx1) => {
  const series = u.series[seriesIdx] as uPlot.Series;
  const scaleX = u.scales[u.series[0]?.scale ?? "x"] as uPlot.Scale & { _min: number; _max: number; ori: number; dir: number; distr: number };
  const scaleY = u.scales[series.scale ?? "y"] as uPlot.Scale & { _min: number; _max: number; ori: number; dir: number; distr: number };
  const dataX = u.data[0] as number[];
  const dataY = u.data[seriesIdx] as (number | null | undefined)[];
  const { left: xOff, top: yOff, width: xDim, height: yDim } = u.bbox;
  // uPlot's own checks, in the same order: trim leading and trailing empty values, then decimate at 4 per pixel.
  while (idx0 <= idx1 && dataY[idx0] == null) idx0 += 1;
  while (idx1 >= idx0 && dataY[idx1] == null) idx1 -= 1;
  const { mode, bands } = u as uPlot & { mode?: number; bands?: unknown[] };
  const simple = mode !== 2 && scaleX.ori === 0 && scaleX.dir === 1 && scaleY.dir === 1 && scaleX.distr === 1 && scaleY.distr === 1 && fillOf(u, seriesIdx) == null && (bands ?? []).length === 0 && (series as { pxAlign?: number }).pxAlign === 1;
  if (!simple || idx0 > idx1 || idx1 - idx0 < xDim * 4) return linear(u, seriesIdx, idx0, idx1);

  const xMin = scaleX._min;
  const xDelta = scaleX._max - xMin;
  const yMin = scaleY._min;
  const yDelta = scaleY._max - yMin;
  // getHPos / getVPos with pxRound (Math.round at pxAlign 1), as uPlot computes them.
  const pixelForX = (value: number) => Math.round(xOff + xDim * ((value - xMin) / xDelta));
  const pixelForY = (value: number) => Math.round(yOff + yDim * (1 - (value - yMin) / yDelta));

  const stroke = new Path2D();
  let minY = NaN;
  let maxY = NaN;
  let inY = NaN;
  let outY = NaN;
  let started = false;
  let accX = pixelForX(dataX[idx0] as number);
  let nextAccXVal = u.posToVal(pixelForX(dataX[idx0] as number) + 1, "x", true);
  for (let index = idx0; index <= idx1; index += 1) {
    const xVal = dataX[index] as number;
    const x = xVal < nextAccXVal ? accX : pixelForX(xVal);
    const yVal = dataY[index];
    // A gap: uPlot clips it out of the line; leave the whole series to uPlot's builder.
    if (yVal == null) return linear(u, seriesIdx, idx0, idx1);
    if (x === accX) {
      outY = yVal;
      if (!started) {
        stroke.lineTo(x, pixelForY(outY));
        inY = minY = maxY = outY;
        started = true;
      } else if (outY < minY) minY = outY;
      else if (outY > maxY) maxY = outY;
    } else {
      if (started) column(stroke, accX, pixelForY(minY), pixelForY(maxY), pixelForY(inY), pixelForY(outY));
      outY = yVal;
      stroke.lineTo(x, pixelForY(outY));
      minY = maxY = inY = outY;
      started = true;
      accX = x;
      nextAccXVal = u.posToVal(accX + 1, "x", true);
    }
  }
  if (started && minY !== maxY) column(stroke, accX, pixelForY(minY), pixelForY(maxY), pixelForY(inY), pixelForY(outY));
  return { stroke, fill: null, clip: null, band: null, gaps: null, flags: 1 } as unknown as uPlot.Series.Paths;
};
