import { memoryPercent, type Gpu } from "../gpu.js";

/** The columns asked of nvidia-smi, in this order. */
export const QUERY_FIELDS = [
  "index",
  "name",
  "uuid",
  "pci.bus_id",
  "memory.total",
  "memory.used",
  "memory.free",
  "utilization.gpu",
  "utilization.memory",
  "temperature.gpu",
  "power.draw",
  "fan.speed",
] as const;

const MIB = 1024 * 1024;

/** `[N/A]` (current drivers), `[Not Supported]` (older), bare `N/A`, or any other bracketed note. */
function cellValue(cell: string): string | null {
  const value = cell.trim();
  return value === "" || value === "N/A" || /^\[.*\]$/.test(value) ? null : value;
}

function numberOf(cell: string | undefined): number | null {
  const value = cellValue(cell ?? "");
  if (value === null) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function mebibytes(cell: string | undefined): number | null {
  const value = numberOf(cell);
  return value === null ? null : Math.round(value * MIB);
}

/**
 * One line of `nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv,noheader,nounits` as a document entry, or
 * null for anything that is not a data line (warnings, Xid and ECC events nvidia-smi prints between rows).
 */
export function parseSmiLine(line: string): Gpu | null {
  const cells = line.split(", ");
  if (cells.length !== QUERY_FIELDS.length || !/^\d+$/.test(cells[0] ?? "")) return null;
  const [index, name, uuid, busId, total, used, free, utilGpu, utilMemory, temperature, power, fan] = cells;
  const memoryTotal = mebibytes(total);
  const memoryUsed = mebibytes(used);
  return {
    index: Number(index),
    name: cellValue(name ?? "") ?? "",
    memory: { total: memoryTotal, used: memoryUsed, free: mebibytes(free), percent: memoryPercent(memoryUsed, memoryTotal) },
    utilization: { gpu: numberOf(utilGpu), memory: numberOf(utilMemory) },
    temperature: numberOf(temperature),
    power_usage_watts: numberOf(power),
    fan_speed_percent: numberOf(fan),
    uuid: cellValue(uuid ?? ""),
    pci_bus_id: cellValue(busId ?? ""),
  };
}
