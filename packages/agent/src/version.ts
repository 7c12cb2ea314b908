import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The agent package's folder (works from src/ under tsx and from dist/src/ once built). */
export const PACKAGE_DIR = findPackageDir(dirname(fileURLToPath(import.meta.url)));

function findPackageDir(start: string): string {
  for (let directory = start; directory !== dirname(directory); directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { name?: string };
      if (manifest.name === "resourcemonitor") return directory;
    } catch {
      // keep walking up
    }
  }
  return start;
}

export const VERSION = (JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as { version: string }).version;
