import { pino, type Logger, type LevelWithSilent } from "pino";
import { redactSecrets } from "./redact.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** File descriptor to write JSON lines to; 2 (stderr) keeps stdout free for `once` and `config`. */
  fd?: number;
}

/** The agent's pino logger: JSON lines, ISO times, secrets redacted from every logged object. */
export function createLogger({ level = "info", fd = 2 }: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (fields) => redactSecrets(fields) },
    },
    pino.destination({ fd, sync: true }),
  );
}
