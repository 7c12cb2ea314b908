import type { DocumentSummary } from "./extract.js";

/**
 * A history answer kept as JSON text, column by column, so that a moving range is answered by cutting and
 * joining text instead of rebuilding and serializing every sample's values: a warm 1 h answer of 3600
 * samples otherwise costs the dashboard about 20 ms of CPU (most of it summaries looked up, columns built,
 * JSON.stringify and the garbage they leave), for a few new samples each time.
 *
 * Only a run of samples that all have one shape (the same sections, cores, sensor names and GPU indexes,
 * each sensor name and GPU index once) is kept this way; anything else is answered the general way
 * (history.ts), whose answer this one matches byte for byte.
 */

/** Which columns a summary fills. */
export interface Shape {
  /** Equal keys, equal shapes. */
  key: string;
  /** Per-core columns, or -1 when the document has no `cpu`. */
  cores: number;
  hasMemory: boolean;
  /** Sensor names in document order. */
  sensors: string[];
  /** GPU indexes in ascending order. */
  gpus: number[];
  /** Value columns, time not counted. */
  columns: number;
}

const CPU_COLUMNS = 2;
const MEMORY_COLUMNS = 4;
const GPU_COLUMNS = 5;

/** The summary's shape, or undefined when a sensor name or GPU index repeats (the general way handles those). */
export function shapeOf(summary: DocumentSummary): Shape | undefined {
  const sensors = summary.temperatures.map(({ sensor }) => sensor);
  if (new Set(sensors).size !== sensors.length) return undefined;
  const gpus = summary.gpus.map(({ index }) => index).sort((a, b) => a - b);
  if (new Set(gpus).size !== gpus.length) return undefined;
  const cores = summary.hasCpu ? summary.perCore.length : -1;
  const columns = (cores >= 0 ? CPU_COLUMNS + cores : 0) + (summary.hasMemory ? MEMORY_COLUMNS : 0) + sensors.length + GPU_COLUMNS * gpus.length;
  return { key: JSON.stringify([cores, summary.hasMemory, sensors, gpus]), cores, hasMemory: summary.hasMemory, sensors, gpus, columns };
}

/** A value as JSON (the figures are finite numbers or null). */
const text = (value: number | null): string => (value === null ? "null" : String(value));

/** One sample's values as JSON text, in the order of `shape`'s columns. */
export function rowTexts(summary: DocumentSummary, shape: Shape): string[] {
  const row: string[] = [];
  if (shape.cores >= 0) {
    row.push(text(summary.cpuPercent));
    for (let core = 0; core < shape.cores; core += 1) row.push(text(summary.perCore[core] ?? null));
    row.push(text(summary.frequencyMhz));
  }
  if (shape.hasMemory) row.push(text(summary.memoryPercent), text(summary.memoryUsedBytes), text(summary.swapPercent), text(summary.swapUsedBytes));
  for (const { celsius } of summary.temperatures) row.push(text(celsius));
  for (const index of shape.gpus) {
    const gpu = summary.gpus.find((candidate) => candidate.index === index);
    row.push(text(gpu?.utilizationPercent ?? null), text(gpu?.memoryPercent ?? null), text(gpu?.memoryUsedBytes ?? null), text(gpu?.temperatureCelsius ?? null), text(gpu?.powerWatts ?? null));
  }
  return row;
}

/** One column's values as `v,v,v`, with where each ends, so that any run of them is one substring. */
export class TextColumn {
  private text: string;
  private ends: number[];

  constructor(values: readonly string[] = []) {
    this.text = values.join(",");
    this.ends = new Array<number>(values.length);
    let at = -1;
    values.forEach((value, index) => (this.ends[index] = at += value.length + 1));
  }

  get length(): number {
    return this.ends.length;
  }

  push(value: string): void {
    this.text = this.ends.length === 0 ? value : `${this.text},${value}`;
    this.ends.push(this.text.length);
  }

  /** Values `from` to `to` (exclusive), comma-separated; "" when none. */
  slice(from: number, to: number): string {
    if (from >= to) return "";
    return this.text.slice(from === 0 ? 0 : (this.ends[from - 1] as number) + 1, this.ends[to - 1]);
  }

  /** Forgets the first `count` values. */
  drop(count: number): void {
    if (count <= 0) return;
    if (count >= this.ends.length) {
      this.text = "";
      this.ends = [];
      return;
    }
    const cut = (this.ends[count - 1] as number) + 1;
    this.text = this.text.slice(cut);
    this.ends = this.ends.slice(count).map((end) => end - cut);
  }

  /** Characters held (for the cache's size). */
  get size(): number {
    return this.text.length;
  }
}

/** What an answer says besides its samples. */
export interface AnswerHeader {
  host: string;
  from: string;
  to: string;
  stepSeconds: number;
  listed: number;
  skipped: number;
  intervalSeconds: number;
  staleAfterSeconds: number;
}

/**
 * Consecutive samples of one host at one thinning step, all of one shape, as JSON text per column. Each
 * sample is known by its position in the host's key index (history.ts), so that a range is found by
 * position, and the keys listed after the run are appended as they come.
 */
export class SampleRun {
  /** Index positions of the samples, ascending. */
  readonly positions: number[] = [];
  readonly summaries: DocumentSummary[] = [];
  private readonly time = new TextColumn();
  private readonly columns: TextColumn[];

  constructor(
    readonly shape: Shape,
    /** The key index generation the positions belong to. */
    readonly generation: number,
    /** Every sample the step keeps between `scanFrom` and `scanTo` (index positions, the latter exclusive) is here. */
    public scanFrom: number,
    public scanTo: number,
  ) {
    this.columns = Array.from({ length: shape.columns }, () => new TextColumn());
  }

  append(position: number, time: number, summary: DocumentSummary): void {
    this.positions.push(position);
    this.summaries.push(summary);
    this.time.push(String(time / 1000));
    rowTexts(summary, this.shape).forEach((value, column) => (this.columns[column] as TextColumn).push(value));
  }

  /** Where the first sample at or after index position `position` is in the run. */
  find(position: number): number {
    let low = 0;
    let high = this.positions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.positions[middle] as number) < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Forgets the first `count` samples; the run then starts at the next one. */
  drop(count: number): void {
    if (count <= 0) return;
    this.positions.splice(0, count);
    this.summaries.splice(0, count);
    this.time.drop(count);
    for (const column of this.columns) column.drop(count);
    this.scanFrom = this.positions[0] ?? this.scanTo;
  }

  get length(): number {
    return this.positions.length;
  }

  /** Bytes held, roughly (for the cache's size): the text, and a number per value. */
  get size(): number {
    return this.columns.reduce((sum, column) => sum + column.size, this.time.size) + 8 * this.positions.length * (this.shape.columns + 3);
  }

  /**
   * The answer for run samples `from` to `to` (exclusive), after `first` (a sample not in the run, or
   * undefined), as JSON text: the same text JSON.stringify gives the general way's answer.
   */
  answer(header: AnswerHeader, from: number, to: number, first?: { time: number; summary: DocumentSummary }): string {
    const firstRow = first ? rowTexts(first.summary, this.shape) : undefined;
    const join = (head: string | undefined, rest: string) => (head === undefined ? rest : rest === "" ? head : `${head},${rest}`);
    const column = (index: number) => `[${join(firstRow?.[index], (this.columns[index] as TextColumn).slice(from, to))}]`;
    const lastNonNull = <T>(read: (summary: DocumentSummary) => T | null): T | null => {
      for (let index = to - 1; index >= from; index -= 1) {
        const value = read(this.summaries[index] as DocumentSummary);
        if (value !== null) return value;
      }
      return first ? read(first.summary) : null;
    };
    const { shape } = this;
    let next = 0;
    const take = () => column(next++);
    const parts = [
      `{"host":${JSON.stringify(header.host)},"from":${JSON.stringify(header.from)},"to":${JSON.stringify(header.to)},"stepSeconds":${header.stepSeconds},"listed":${header.listed}`,
      `,"time":[${join(first ? String(first.time / 1000) : undefined, this.time.slice(from, to))}]`,
    ];
    if (shape.cores >= 0) {
      const total = take();
      const cores = Array.from({ length: shape.cores }, take);
      parts.push(`,"cpu":{"total":${total},"cores":[${cores.join(",")}],"frequencyMhz":${take()}}`);
    } else parts.push(`,"cpu":null`);
    if (shape.hasMemory) {
      const [percent, used, swapPercent, swapUsed] = [take(), take(), take(), take()];
      const total = JSON.stringify(lastNonNull((summary) => summary.memoryTotalBytes));
      const swapTotal = JSON.stringify(lastNonNull((summary) => summary.swapTotalBytes));
      parts.push(`,"memory":{"percent":${percent},"usedBytes":${used},"totalBytes":${total},"swapPercent":${swapPercent},"swapUsedBytes":${swapUsed},"swapTotalBytes":${swapTotal}}`);
    } else parts.push(`,"memory":null`);
    if (shape.sensors.length > 0) {
      const celsius = shape.sensors.map(take);
      parts.push(`,"temperatures":{"sensors":${JSON.stringify(shape.sensors)},"celsius":[${celsius.join(",")}]}`);
    } else parts.push(`,"temperatures":null`);
    const gpus = shape.gpus.map((index) => {
      const gpu = (summary: DocumentSummary) => summary.gpus.find((candidate) => candidate.index === index);
      const name = JSON.stringify(lastNonNull((summary) => gpu(summary)?.name ?? null));
      const memoryTotal = JSON.stringify(lastNonNull((summary) => gpu(summary)?.memoryTotalBytes ?? null));
      const [utilization, memoryPercent, memoryUsed, temperature, power] = [take(), take(), take(), take(), take()];
      return `{"index":${index},"name":${name},"memoryTotalBytes":${memoryTotal},"utilizationPercent":${utilization},"memoryPercent":${memoryPercent},"memoryUsedBytes":${memoryUsed},"temperatureCelsius":${temperature},"powerWatts":${power}}`;
    });
    parts.push(`,"gpus":[${gpus.join(",")}],"skipped":${header.skipped},"intervalSeconds":${header.intervalSeconds},"staleAfterSeconds":${header.staleAfterSeconds}}`);
    return parts.join("");
  }
}
