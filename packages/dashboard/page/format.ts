/** Values as people read them: %, GiB, °C, W, MHz; a missing value is an en dash. */

export const DASH = "–";
const GIB = 1024 ** 3;

export function percent(value: number | null | undefined): string {
  return value == null ? DASH : `${value.toFixed(1)} %`;
}

export function gib(bytes: number | null | undefined): string {
  return bytes == null ? DASH : `${(bytes / GIB).toFixed(bytes < 10 * GIB ? 2 : 1)} GiB`;
}

export function celsius(value: number | null | undefined): string {
  return value == null ? DASH : `${Math.round(value * 10) / 10} °C`;
}

export function watts(value: number | null | undefined): string {
  return value == null ? DASH : `${value.toFixed(value < 100 ? 1 : 0)} W`;
}

export function mhz(value: number | null | undefined): string {
  return value == null ? DASH : `${Math.round(value)} MHz`;
}

/** `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function age(seconds: number | null): string {
  if (seconds === null) return "never";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}
