/** DNS allows 253 octets; S3 keys and file names are limited in bytes too. */
export const MAX_HOSTNAME_BYTES = 253;

const utf8 = new TextEncoder();

/**
 * Whether `text` takes at most `maxBytes` in UTF-8. A UTF-16 unit is at most 3 UTF-8 bytes, so a short text
 * needs no encoding to be counted.
 */
export function fitsUtf8Bytes(text: string, maxBytes: number): boolean {
  return text.length * 3 <= maxBytes || utf8.encode(text).length <= maxBytes;
}

/** True when `text` holds U+0000-U+001F or U+007F. */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code <= 0x1f || code === 0x7f) return true;
  }
  return false;
}

/** Why `name` cannot be a host's key in the store, or `undefined` when it can. */
export function hostnameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "must be a string";
  if (name === "") return "is empty";
  if (name.includes("/") || name.includes("\\")) return "contains '/' or '\\', which would put its files in another folder";
  if (name.includes("..")) return "contains '..'";
  if (name.startsWith(".")) return "starts with '.' (no hostname does; its files would be hidden)";
  if (hasControlCharacter(name)) return "contains a control character";
  if (!fitsUtf8Bytes(name, MAX_HOSTNAME_BYTES)) return `is longer than ${MAX_HOSTNAME_BYTES} bytes`;
  // Compared without case: on a case-insensitive file system List.json is list.json too.
  if (name.toLowerCase() === "list") return "is 'list': its latest file would be list.json and replace the host list";
  return undefined;
}

let lastValid: string | undefined;

/**
 * Returns `name` when it is safe as `<name>.json` and `history/<name>/`; throws an Error naming the
 * problem otherwise (empty, `/` or `\`, `..`, a leading `.`, control characters, over 253 bytes, `list`).
 */
export function validateHostname(name: string): string {
  if (name === lastValid) return name; // a sink validates its one host with every sample
  const problem = hostnameProblem(name);
  if (problem) throw new Error(`invalid hostname ${JSON.stringify(name)}: ${problem}`);
  lastValid = name;
  return name;
}
