// The node flags the installed `resourcemonitor` command runs with: its shebang's, so that benchmarks start
// the agent (or a reference script) exactly as users do.
import { readFileSync } from "node:fs";

export const AGENT_BIN = new URL("../packages/agent/bin/resourcemonitor.js", import.meta.url).pathname;

export function agentNodeFlags() {
  return readFileSync(AGENT_BIN, "utf8").split("\n")[0].split(" node ")[1].split(" ");
}
