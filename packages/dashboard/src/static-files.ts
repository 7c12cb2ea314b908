import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface StaticFile {
  body: Buffer;
  type: string;
  /** Content-hashed asset names never change meaning: cached for a year. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

/** `dist/public` of this package, whether this file runs compiled (dist/src) or from source (src). */
export function defaultPublicDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, "dist", "public");
}

/** The built page, read once into memory (a few hundred kB): `/` and `/assets/<hashed name>`. */
export function loadStaticFiles(publicDir: string): Map<string, StaticFile> | undefined {
  if (!existsSync(join(publicDir, "index.html"))) return undefined;
  const files = new Map<string, StaticFile>();
  files.set("/", { body: readFileSync(join(publicDir, "index.html")), type: TYPES[".html"] as string, immutable: false });
  const assets = join(publicDir, "assets");
  for (const name of existsSync(assets) ? readdirSync(assets) : []) {
    files.set(`/assets/${name}`, { body: readFileSync(join(assets, name)), type: TYPES[extname(name)] ?? "application/octet-stream", immutable: true });
  }
  return files;
}
