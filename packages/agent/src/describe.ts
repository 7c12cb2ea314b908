import type { JsonSchema } from "@resourcemonitor/runtime";
import type { AgentParts } from "./agent.js";

/** Dotted paths of the fields a fragment schema declares, two levels deep: `cpu.usage_percent`, … */
export function contributedFields(schema: JsonSchema | undefined, prefix = "", depth = 2): string[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).flatMap(([key, inner]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = depth > 1 ? contributedFields(inner, path, depth - 1) : [];
    return nested.length > 0 ? nested : [path];
  });
}

/** What `resourcemonitor plugins` prints: a line per plugin and its fields, or everything as JSON. */
export function describePlugins({ runtime, loaded }: AgentParts, asJson: boolean): string {
  const rows = loaded.map(({ entry, plugin }) => ({
    name: plugin.definition.name,
    kind: plugin.definition.kind,
    version: plugin.definition.version ?? "unknown",
    from: entry.name,
    description: plugin.definition.description,
    options: plugin.options,
    fragmentSchema: plugin.definition.fragmentSchema,
  }));
  if (asJson) return `${JSON.stringify({ plugins: rows, documentSchema: runtime.documentSchema() }, null, 2)}\n`;
  return rows
    .map((row) => {
      const fields = row.kind === "collector" ? `\n    contributes: ${contributedFields(row.fragmentSchema).join(", ") || "(nothing declared)"}` : "";
      return `${row.kind.padEnd(9)} ${row.name} ${row.version} (${row.from})\n    ${row.description}${fields}\n`;
    })
    .join("");
}
