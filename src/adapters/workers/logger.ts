import type { Logger } from "../../deps";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * JSON lines through console, which Workers Logs / `wrangler tail` collect. Same rule as the
 * Node logger: callers pass ids and counts, never an email address, postcode or letter text.
 */
export function consoleLogger(level: LogLevel): Logger {
  const min = LEVELS[level];
  const log = (lvl: Exclude<LogLevel, "silent">) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields });
    if (lvl === "error") console.error(line);
    else if (lvl === "warn") console.warn(line);
    else console.log(line);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
