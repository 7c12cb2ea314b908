import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RUNTIME_API_VERSION, type PluginDefinition, type PluginKind } from "./plugin.js";

export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PluginLoadError";
  }
}

const SHORT_NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The packages a plugin name may stand for, in the order they are tried: a short name `disk` is the first-party
 * `@resourcemonitor/plugin-disk`, else the third-party `resourcemonitor-plugin-disk` (`sink-` for sinks);
 * a package name or path is taken as given.
 */
export function packageNamesFor(kind: PluginKind, name: string): string[] {
  if (!SHORT_NAME.test(name) || name.startsWith("resourcemonitor-")) return [name];
  const infix = kind === "collector" ? "plugin" : "sink";
  return [`@resourcemonitor/${infix}-${name}`, `resourcemonitor-${infix}-${name}`];
}

/** The first package a name stands for: `cpu` -> `@resourcemonitor/plugin-cpu`, `file` (sink) -> `@resourcemonitor/sink-file`. */
export function packageNameFor(kind: PluginKind, name: string): string {
  return packageNamesFor(kind, name)[0] ?? name;
}

function isPath(spec: string): boolean {
  return spec.startsWith(".") || isAbsolute(spec);
}

/** Finds the module file for a plugin name, package name or path; `searchFrom` are directories to resolve from. */
export function resolvePlugin(kind: PluginKind, name: string, searchFrom: string[]): string {
  if (isPath(name)) return resolve(searchFrom[0] ?? process.cwd(), name);
  const packageNames = packageNamesFor(kind, name);
  for (const packageName of packageNames) {
    for (const directory of searchFrom) {
      try {
        return createRequire(join(directory, "noop.js")).resolve(packageName);
      } catch {
        // try the next place
      }
    }
  }
  throw new PluginLoadError(
    `cannot find ${kind} plugin "${name}": no package ${packageNames.join(" or ")} under ${searchFrom.join(" or ")}; install it (npm install ${packageNames.at(-1) ?? name}) or give a path`,
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
  checkApiVersion(definition, name, file);
  if (definition.kind !== kind) {
    throw new PluginLoadError(`"${name}" is a ${definition.kind} plugin, listed as a ${kind}`);
  }
  return definition;
}

/** Refuses a plugin built against another plugin contract before it can tap anything. */
function checkApiVersion(definition: PluginDefinition<never>, name: string, file: string): void {
  const declared: unknown = definition.apiVersion;
  if (declared === RUNTIME_API_VERSION) return;
  const built = typeof declared === "number" ? `was built for runtime API ${declared}` : "declares no apiVersion";
  const advice =
    typeof declared === "number" && declared > RUNTIME_API_VERSION
      ? "upgrade resourcemonitor (the agent and @resourcemonitor/runtime)"
      : `install a version of the plugin built for API ${RUNTIME_API_VERSION} (its peerDependencies name the @resourcemonitor/runtime range it supports)`;
  throw new PluginLoadError(
    `plugin "${name}"${file === name ? "" : ` (${file})`} ${built}, but this runtime provides API ${RUNTIME_API_VERSION}; ${advice}`,
  );
}
