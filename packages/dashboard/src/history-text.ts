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

/** Whether `summary` has `shape` (without building its shape). */
export function sameShape(shape: Shape, summary: DocumentSummary): boolean {
  if ((summary.hasCpu ? summary.perCore.length : -1) !== shape.cores || summary.hasMemory !== shape.hasMemory) return false;
  const { temperatures, gpus } = summary;
  if (temperatures.length !== shape.sensors.length || gpus.length !== shape.gpus.length) return false;
  for (let position = 0; position < temperatures.length; position += 1) if ((temperatures[position] as { sensor: string }).sensor !== shape.sensors[position]) return false;
  // As many GPUs, each of the shape's (distinct) indexes among them: the same indexes, each once.
  for (const index of shape.gpus) if (!gpus.some((gpu) => gpu.index === index)) return false;
  return true;
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

/**
 * One column's values as the bytes `v,v,v` (the values are numbers and null: ASCII), with where each ends,
 * so that any run of them is one view of the bytes, sent as is: no string is built, encoded or collected
 * per answer. Bytes once written are never changed (an answer still being sent may hold a view of them):
 * appending writes past them, and growing or dropping copies into new bytes.
 */
export class TextColumn {
  private bytes = Buffer.allocUnsafe(256);
  private used = 0;
  private ends: number[] = [];

  /** A column of `values` at once (one join, not a write per value). */
  static of(values: readonly string[]): TextColumn {
    const column = new TextColumn();
    const text = values.join(",");
    column.bytes = Buffer.allocUnsafe(Math.max(256, 2 * text.length));
    column.used = column.bytes.write(text, 0, "latin1");
    column.ends = new Array<number>(values.length);
    let at = -1;
    for (let index = 0; index < values.length; index += 1) column.ends[index] = at += (values[index] as string).length + 1;
    return column;
  }

  get length(): number {
    return this.ends.length;
  }

  push(value: string): void {
    const comma = this.ends.length > 0 ? 1 : 0;
    if (this.used + comma + value.length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + comma + value.length));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (comma) this.bytes[this.used++] = 0x2c;
    this.used += this.bytes.write(value, this.used, "latin1");
    this.ends.push(this.used);
  }

  /** Values `from` to `to` (exclusive), comma-separated; empty when none. */
  slice(from: number, to: number): Buffer {
    if (from >= to) return EMPTY;
    return this.bytes.subarray(from === 0 ? 0 : (this.ends[from - 1] as number) + 1, this.ends[to - 1]);
  }

  /** Forgets the first `count` values. */
  drop(count: number): void {
    if (count <= 0) return;
    const cut = count >= this.ends.length ? this.used : (this.ends[count - 1] as number) + 1;
    const kept = Buffer.allocUnsafe(Math.max(256, 2 * (this.used - cut)));
    this.bytes.copy(kept, 0, cut, this.used);
    this.bytes = kept;
    this.used -= cut;
    this.ends = this.ends.slice(count).map((end) => end - cut);
  }

  /** Bytes held (for the cache's size). */
  get size(): number {
    return this.bytes.length;
  }
}

const EMPTY = Buffer.alloc(0);

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
  positions: number[] = [];
  summaries: DocumentSummary[] = [];
  private time = new TextColumn();
  private columns: TextColumn[];

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

  /** A run of `summaries` (all of `shape`) at once: each column joined, not written value by value. */
  static of(shape: Shape, generation: number, scanFrom: number, scanTo: number, samples: { position: number; time: number; summary: DocumentSummary }[]): SampleRun {
    const run = new SampleRun(shape, generation, scanFrom, scanTo);
    const columns = Array.from({ length: shape.columns }, () => new Array<string>(samples.length));
    samples.forEach(({ summary }, sample) => rowTexts(summary, shape).forEach((value, column) => ((columns[column] as string[])[sample] = value)));
    run.positions = samples.map(({ position }) => position);
    run.summaries = samples.map(({ summary }) => summary);
    run.time = TextColumn.of(samples.map(({ time }) => String(time / 1000)));
    run.columns = columns.map((values) => TextColumn.of(values));
    return run;
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
   * undefined), as JSON: the same bytes JSON.stringify gives the general way's answer.
   */
  answer(header: AnswerHeader, from: number, to: number, first?: { time: number; summary: DocumentSummary }): Buffer {
    const chunks: Buffer[] = [];
    let pending = "";
    /** Text is gathered and added as one chunk before the next column. */
    const add = (text: string) => (pending += text);
    const flush = () => {
      if (pending !== "") chunks.push(Buffer.from(pending));
      pending = "";
    };
    const firstRow = first ? rowTexts(first.summary, this.shape) : undefined;
    const values = (head: string | undefined, rest: Buffer) => {
      add("[");
      if (head !== undefined) add(rest.length > 0 ? `${head},` : head);
      flush();
      if (rest.length > 0) chunks.push(rest);
      add("]");
    };
    let next = 0;
    const column = () => {
      const index = next++;
      values(firstRow?.[index], (this.columns[index] as TextColumn).slice(from, to));
    };
    const lastNonNull = <T>(read: (summary: DocumentSummary) => T | null): T | null => {
      for (let index = to - 1; index >= from; index -= 1) {
        const value = read(this.summaries[index] as DocumentSummary);
        if (value !== null) return value;
      }
      return first ? read(first.summary) : null;
    };
    const { shape } = this;
    add(`{"host":${JSON.stringify(header.host)},"from":${JSON.stringify(header.from)},"to":${JSON.stringify(header.to)},"stepSeconds":${header.stepSeconds},"listed":${header.listed},"time":`);
    values(first ? String(first.time / 1000) : undefined, this.time.slice(from, to));
    if (shape.cores >= 0) {
      add(`,"cpu":{"total":`);
      column();
      add(`,"cores":[`);
      for (let core = 0; core < shape.cores; core += 1) {
        if (core > 0) add(",");
        column();
      }
      add(`],"frequencyMhz":`);
      column();
      add("}");
    } else add(`,"cpu":null`);
    if (shape.hasMemory) {
      add(`,"memory":{"percent":`);
      column();
      add(`,"usedBytes":`);
      column();
      add(`,"totalBytes":${JSON.stringify(lastNonNull((summary) => summary.memoryTotalBytes))},"swapPercent":`);
      column();
      add(`,"swapUsedBytes":`);
      column();
      add(`,"swapTotalBytes":${JSON.stringify(lastNonNull((summary) => summary.swapTotalBytes))}}`);
    } else add(`,"memory":null`);
    if (shape.sensors.length > 0) {
      add(`,"temperatures":{"sensors":${JSON.stringify(shape.sensors)},"celsius":[`);
      shape.sensors.forEach((_sensor, position) => {
        if (position > 0) add(",");
        column();
      });
      add("]}");
    } else add(`,"temperatures":null`);
    add(`,"gpus":[`);
    shape.gpus.forEach((index, position) => {
      const gpu = (summary: DocumentSummary) => summary.gpus.find((candidate) => candidate.index === index);
      const name = JSON.stringify(lastNonNull((summary) => gpu(summary)?.name ?? null));
      const memoryTotal = JSON.stringify(lastNonNull((summary) => gpu(summary)?.memoryTotalBytes ?? null));
      add(`${position > 0 ? "," : ""}{"index":${index},"name":${name},"memoryTotalBytes":${memoryTotal},"utilizationPercent":`);
      column();
      add(`,"memoryPercent":`);
      column();
      add(`,"memoryUsedBytes":`);
      column();
      add(`,"temperatureCelsius":`);
      column();
      add(`,"powerWatts":`);
      column();
      add("}");
    });
    add(`],"skipped":${header.skipped},"intervalSeconds":${header.intervalSeconds},"staleAfterSeconds":${header.staleAfterSeconds}}`);
    flush();
    return Buffer.concat(chunks);
  }
}
