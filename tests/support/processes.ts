/**
 * Real Node processes for fault tests: the server (`npm start`'s entry point) and the CLI, run
 * from source with tsx against a database file, killed when the test ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { onTestFinished } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";

/** Wait for `ok()` (polled every 25 ms: a condition, not a sleep), failing after `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 45_000) {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function launch(entry: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: ROOT_DIR,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (c) => {
    err += String(c);
    if (process.env.KILL_TEST_LOG) process.stderr.write(String(c));
  });
  child.on("exit", (code, signal) => {
    if (code && code !== 0 && signal !== "SIGKILL") process.stderr.write(`${entry} exited ${code}: ${err}\n`);
  });
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
  } catch {
    // Started outside a test: the caller stops it.
  }
  return child;
}

/** The server, from source, with `env`. */
export const startServer = (env: Record<string, string>) => launch("src/adapters/node/main.ts", [], env);

/** One CLI command (e.g. `drain`), resolving to its exit code. */
export function runCli(args: string[], env: Record<string, string>): Promise<number | null> {
  const child = launch("src/adapters/node/cli.ts", args, env);
  return new Promise((done) => child.once("exit", (code) => done(code)));
}
