import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PluginDefinition, PluginKind } from "./plugin.js";

export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PluginLoadError";
  }
}

const SHORT_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** `cpu` -> `@resourcemonitor/plugin-cpu`, `file` (sink) -> `@resourcemonitor/sink-file`; anything else as given. */
export function packageNameFor(kind: PluginKind, name: string): string {
  if (!SHORT_NAME.test(name) || name.startsWith("resourcemonitor-")) return name;
  return `@resourcemonitor/${kind === "collector" ? "plugin" : "sink"}-${name}`;
}

function isPath(spec: string): boolean {
  return spec.startsWith(".") || isAbsolute(spec);
}

/** Finds the module file for a plugin name, package name or path; `searchFrom` are directories to resolve from. */
export function resolvePlugin(kind: PluginKind, name: string, searchFrom: string[]): string {
  if (isPath(name)) return resolve(searchFrom[0] ?? process.cwd(), name);
  const packageName = packageNameFor(kind, name);
  for (const directory of searchFrom) {
    try {
      return createRequire(join(directory, "noop.js")).resolve(packageName);
    } catch {
      // try the next place
    }
  }
  throw new PluginLoadError(
    `cannot find ${kind} plugin "${name}": no package ${packageName} under ${searchFrom.join(" or ")}; install it (npm install ${packageName}) or give a path`,
  );
}

function isPluginDefinition(value: unknown): value is PluginDefinition<never> {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<PluginDefinition<never>>;
  return typeof candidate.name === "string" && typeof candidate.apply === "function" && typeof candidate.optionsSchema === "object";
}

/** Imports a plugin module and checks that it exports (default or `plugin`) a definition of the expected kind. */
export async function loadPlugin(kind: PluginKind, name: string, searchFrom: string[]): Promise<PluginDefinition<never>> {
  const file = resolvePlugin(kind, name, searchFrom);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new PluginLoadError(`cannot load ${kind} plugin "${name}" from ${file}: ${(error as Error).message}`);
  }
  const definition = [module.default, module.plugin].find(isPluginDefinition);
  if (!definition) {
    throw new PluginLoadError(`${file} does not export a resourcemonitor plugin (a default export made with definePlugin)`);
  }
  if (definition.kind !== kind) {
    throw new PluginLoadError(`"${name}" is a ${definition.kind} plugin, listed as a ${kind}`);
  }
  return definition;
}
