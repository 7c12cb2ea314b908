function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws a TypeError naming `caller` unless `value` is an object of fields (not null, an array or a primitive). */
export function assertFields(value: unknown, caller: string): asserts value is Record<string, unknown> {
  if (isPlainObject(value)) return;
  throw new TypeError(`${caller} takes an object of fields, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
}

/**
 * Merges `source` into `target`: plain objects recursively, everything else (arrays too) replaced.
 * `onReplace` hears of every value that was already there and got replaced. Plain objects of `source`
 * are copied, never shared, so a later merge into `target` cannot change `source`.
 */
export function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>, onReplace?: (key: string) => void): Record<string, unknown> {
  assertFields(source, "deepMerge()"); // for…in below would pass over null silently
  return copyInto(target, source, onReplace);
}

/**
 * deepMerge for a `source` already checked to be an object of fields. Its type checks are written out rather
 * than calls of isPlainObject: the agent runs unoptimized, where each call is an interpreted frame, and this loop
 * visits every field of every fragment each tick.
 */
export function copyInto(target: Record<string, unknown>, source: Record<string, unknown>, onReplace?: (key: string) => void): Record<string, unknown> {
  // for…in, not for…of Object.keys(): unoptimized, each for…of step allocates an iterator result.
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    const current = target[key];
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      if (current !== undefined) onReplace?.(key);
      target[key] = value;
    } else if (typeof current === "object" && current !== null && !Array.isArray(current)) {
      copyInto(current as Record<string, unknown>, value as Record<string, unknown>, onReplace);
    } else {
      if (current !== undefined) onReplace?.(key);
      target[key] = copyInto({}, value as Record<string, unknown>);
    }
  }
  return target;
}

/**
 * Merges `source` into `target` as deepMerge does, but takes `source`'s objects as they are instead of copying
 * them: for sources nobody else holds (the runtime's own copies of each collector's fragment). Neither `source`
 * nor an object taken from an earlier source is ever changed: a plain object both hold is merged into a shallow
 * copy of `target`'s, unless `owned` says this merge made it.
 */
export function mergeTaking(target: Record<string, unknown>, source: Record<string, unknown>, owned: Set<object>, onReplace?: (key: string) => void): void {
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    const current = target[key];
    if (current === undefined) {
      target[key] = value;
    } else if (isPlainObject(current) && isPlainObject(value)) {
      let mine = current;
      if (!owned.has(current)) {
        mine = { ...current };
        owned.add(mine);
        target[key] = mine;
      }
      mergeTaking(mine, value, owned, onReplace);
    } else {
      onReplace?.(key);
      target[key] = value;
    }
  }
}
