import { dirname } from "node:path";
import { CONFIG_SCHEMA, loadPlugin, type AgentConfig, type JsonSchema, type PluginDefinition, type PluginKind } from "@resourcemonitor/runtime";
import { PACKAGE_DIR } from "./version.js";

/** Plugins offered to editors besides the configured ones, when installed. */
const KNOWN: Record<PluginKind, string[]> = {
  collector: ["cpu", "memory", "thermal", "nvidia", "disk"],
  sink: ["file", "s3", "stdout", "http", "prometheus"],
};

interface Offered {
  kind: PluginKind;
  /** The name as written in the config (`cpu`, `resourcemonitor-plugin-disk`, `./my-plugin.js`). */
  name: string;
  definition: PluginDefinition<never>;
}

/** One way to write an entry for a plugin: its name alone, or an object with its options. */
function entrySchemas({ name, definition }: Offered): JsonSchema[] {
  const options = definition.optionsSchema;
  const required = Array.isArray(options.required) ? options.required : [];
  const object: JsonSchema = {
    type: "object",
    description: definition.description,
    required: ["name", ...required],
    additionalProperties: false,
    properties: {
      name: { const: name, description: definition.description },
      timeout: { type: "number", exclusiveMinimum: 0, description: "Seconds this plugin may take per tick." },
      ...(options.properties as Record<string, JsonSchema> | undefined),
    },
  };
  return required.length > 0 ? [object] : [{ const: name, description: definition.description }, object];
}

/** The configuration file's JSON schema with the options of every offered plugin, for editors (VS Code, yaml-language-server). */
export function fullConfigSchema(offered: Offered[]): JsonSchema {
  const base = CONFIG_SCHEMA.properties as Record<string, JsonSchema>;
  const list = (kind: PluginKind, key: "collectors" | "sinks"): JsonSchema => {
    const known = offered.filter((plugin) => plugin.kind === kind);
    const names = new Set(known.map((plugin) => plugin.name));
    const other: JsonSchema = {
      description: "Another plugin: a package name or a path, with its options.",
      anyOf: [
        { type: "string", minLength: 1, not: { enum: [...names] } },
        { type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1, not: { enum: [...names] } } } },
      ],
    };
    return { ...base[key], type: "array", items: { anyOf: [...known.flatMap(entrySchemas), other] } };
  };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "resourcemonitor configuration",
    ...CONFIG_SCHEMA,
    properties: { ...base, collectors: list("collector", "collectors"), sinks: list("sink", "sinks") },
  };
}

/** The configured plugins and the installed known ones; a plugin that cannot be loaded is left out (run and plugins report why). */
export async function offeredPlugins(config: AgentConfig): Promise<Offered[]> {
  const searchFrom = [...new Set([config.files.config ? dirname(config.files.config) : process.cwd(), process.cwd(), PACKAGE_DIR])];
  const wanted: [PluginKind, string][] = [
    ...config.collectors.map((entry): [PluginKind, string] => ["collector", entry.name]),
    ...config.sinks.map((entry): [PluginKind, string] => ["sink", entry.name]),
    ...KNOWN.collector.map((name): [PluginKind, string] => ["collector", name]),
    ...KNOWN.sink.map((name): [PluginKind, string] => ["sink", name]),
  ];
  const offered: Offered[] = [];
  const seen = new Set<string>();
  for (const [kind, name] of wanted) {
    if (seen.has(`${kind}:${name}`)) continue;
    seen.add(`${kind}:${name}`);
    const definition = await loadPlugin(kind, name, searchFrom).catch(() => undefined);
    if (definition) offered.push({ kind, name, definition });
  }
  return offered;
}
