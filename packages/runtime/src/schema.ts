import type { JsonSchema } from "./plugin.js";

/** The part of every document the runtime itself writes. */
export const BASE_DOCUMENT_SCHEMA: JsonSchema = {
  $id: "resourcemonitor:document-base",
  type: "object",
  required: ["timestamp", "hostname"],
  properties: {
    timestamp: {
      type: "string",
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$",
      description: "Start of the sampling slot, ISO-8601 UTC to the second.",
    },
    hostname: { type: "string", minLength: 1, description: "The host's name as used in the store's keys." },
  },
};
