import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A path as given (when it has a slash), or the first executable of that name on PATH; null if none. */
export function findExecutable(name: string): string | null {
  if (name.includes("/")) return isExecutableFile(name) ? name : null;
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (directory && isExecutableFile(join(directory, name))) return join(directory, name);
  }
  return null;
}
