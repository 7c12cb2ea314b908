export { main } from "./cli.js";
export { createAgent, runAgent } from "./agent.js";
export type { AgentParts } from "./agent.js";
export { DEFAULT_COLLECTORS } from "./preset.js";
export { describePlugins, contributedFields } from "./describe.js";
export { VERSION } from "./version.js";
