const SECRET_KEY = /secret|password|passwd|token|credential|authorization|session|access[-_]?key|api[-_]?key/i;
export const REDACTED = "[redacted]";

/** Sink options whose every value is a secret, whatever its name (`headers: { x-api-key: … }`). */
const SECRET_MAPS = new Set(["headers"]);

function redactMap(map: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(map).map((key) => [key, REDACTED]));
}

/** `https://user:pass@host/p?token=x` -> `https://user:[redacted]@host/p?token=[redacted]`; anything else as it is. */
function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  try {
    const url = new URL(text);
    if (!url.password && !url.search) return text;
    if (url.password) url.password = REDACTED;
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, REDACTED);
    return url.href;
  } catch {
    return text;
  }
}

/**
 * A deep copy of `value` with every property whose name looks like a secret replaced by "[redacted]", every value
 * of a `headers` map too, and the password and query values of URLs.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => redactSecrets(item)) as T;
  if (typeof value === "string") return redactUrl(value) as T;
  if (value === null || typeof value !== "object" || value instanceof Error) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_MAPS.has(key) && typeof inner === "object" && inner !== null && !Array.isArray(inner)) copy[key] = redactMap(inner as Record<string, unknown>);
    else copy[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redactSecrets(inner);
  }
  return copy as T;
}
