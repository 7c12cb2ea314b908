import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@resourcemonitor/runtime";
import { isRunning } from "./status.js";

export const LOCK_FILE = "agent.pid";

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The pid in the lock file, when that process is alive and is an agent (a pid reused after a reboot is not). */
function holder(lock: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isRunning(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("resourcemonitor") ? pid : undefined;
  } catch {
    return pid; // no /proc to ask: a live pid is taken at its word
  }
}

/**
 * Claims `stateDir` for this agent: two agents sharing one would interleave their spools and overwrite each
 * other's status. A lock left by a crashed agent is taken over. A state directory that cannot be written does
 * not stop the agent (the spool reports that itself). Returns the release function.
 */
export function claimStateDir(stateDir: string): () => void {
  const lock = join(stateDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(lock, mine, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !isFile(lock)) return () => undefined;
    const pid = holder(lock);
    if (pid !== undefined) {
      throw new ConfigError(`another resourcemonitor (pid ${pid}) is using the state directory ${stateDir}: give each agent its own (stateDir, --state-dir or RESOURCEMONITOR_STATE_DIR), or stop the other one`);
    }
    try {
      writeFileSync(lock, mine); // left by an agent that crashed
    } catch {
      return () => undefined;
    }
  }
  return () => {
    try {
      if (readFileSync(lock, "utf8") === mine) unlinkSync(lock);
    } catch {
      // already gone
    }
  };
}
