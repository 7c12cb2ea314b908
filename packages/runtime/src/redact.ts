const SECRET_KEY = /secret|password|passwd|token|credential|authorization|session|access[-_]?key|api[-_]?key/i;
export const REDACTED = "[redacted]";

/** A deep copy of `value` with every property whose name looks like a secret replaced by "[redacted]". */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => redactSecrets(item)) as T;
  if (value === null || typeof value !== "object" || value instanceof Error) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redactSecrets(inner);
  }
  return copy as T;
}
