import assert from "node:assert/strict";
import { RUNTIME_API_VERSION, type JsonSchema, type PluginDefinition } from "./plugin.js";
import { compile } from "./validation.js";

/** Paths of schema properties without a `description`, at any depth (`$.headers`, `$.mounts[].device`). */
function undescribed(schema: JsonSchema, path = "$"): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const own = Object.entries(properties).flatMap(([key, inner]) => [
    ...(typeof inner.description === "string" && inner.description !== "" ? [] : [`${path}.${key}`]),
    ...undescribed(inner, `${path}.${key}`),
  ]);
  const items = schema.items && typeof schema.items === "object" ? undescribed(schema.items as JsonSchema, `${path}[]`) : [];
  return [...own, ...items];
}

/**
 * The static part of the plugin contract: built for this runtime's API, a short name, a description,
 * object options schema with a description on every property, and a collector's fragment schema compiles.
 */
export function assertPluginContract(plugin: PluginDefinition<never>): void {
  assert.equal(plugin.apiVersion, RUNTIME_API_VERSION, `plugin ${plugin.name}: apiVersion`);
  assert.match(plugin.name, /^[a-z0-9][a-z0-9-]*$/, "name is a short lower-case name");
  assert.ok(plugin.description.length > 0, `plugin ${plugin.name} has a description`);
  assert.equal(plugin.optionsSchema.type, "object", `plugin ${plugin.name}: optionsSchema is an object schema`);
  assert.deepEqual(undescribed(plugin.optionsSchema), [], `plugin ${plugin.name}: options without a description`);
  if (plugin.kind === "collector") {
    assert.ok(plugin.fragmentSchema, `collector ${plugin.name} declares a fragmentSchema`);
    compile(plugin.fragmentSchema);
  }
}
