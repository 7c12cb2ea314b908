export { main } from "./cli.js";
export { createAgent } from "./agent.js";
export { AgentRunner } from "./runner.js";
export { readStatus, formatStatus, statusPath } from "./status.js";
export type { AgentStatus } from "./status.js";
export type { AgentParts } from "./agent.js";
export { DEFAULT_COLLECTORS } from "./preset.js";
export { describePlugins, contributedFields } from "./describe.js";
export { VERSION } from "./version.js";
