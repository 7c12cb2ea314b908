import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { JsonSchema } from "./plugin.js";

/** One shared ajv instance: schemas are compiled once, at load time, never per tick. */
export const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });

export function compile<T = unknown>(schema: JsonSchema): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** `/cpu/usage_per_core/3` -> `cpu.usage_per_core[3]`; the root is `$`. */
export function jsonPath(pointer: string, base = "$"): string {
  if (pointer === "") return base;
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : `${path}.${part}`), base);
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") return `unknown property "${String(params.additionalProperty)}"`;
  if (error.keyword === "enum") return `${error.message}: ${JSON.stringify(params.allowedValues)}`;
  return error.message ?? error.keyword;
}

/** Human-readable lines, one per ajv error: `<path>: <what was expected>`. */
export function formatErrors(errors: ErrorObject[] | null | undefined, base = "$"): string[] {
  return (errors ?? []).map((error) => `${jsonPath(error.instancePath, base)}: ${describe(error)}`);
}
