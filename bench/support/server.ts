/**
 * Runs the real Node server (`src/adapters/node/main.ts`) as a child process for a benchmark and
 * stops it again. The child is always killed: on success, on error, and if the benchmark process
 * itself is interrupted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

export type BenchServer = { url: string; pid: number; stop(): Promise<void>; stderrTail(): string };

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * A benchmark sends every request from one address (127.0.0.1). The per-address limits still run
 * (their cost is part of what is measured), but high enough that nothing is refused.
 */
export const BENCH_LIMITS: Record<string, string> = {
  LOOKUP_LIMIT_PER_IP_HOUR: "1000000",
  PREVIEW_LIMIT_PER_IP_HOUR: "1000000",
  LETTER_LIMIT_PER_IP_HOUR: "100000",
  PLEDGE_LIMIT_PER_IP_HOUR: "1000000",
  RESEND_LIMIT_PER_IP_HOUR: "1000000",
  PRIVACY_LIMIT_PER_IP_HOUR: "1000000",
};

export async function startServer(opts: {
  root: string;
  env: Record<string, string>;
  /** Extra node flags before `--import tsx`, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/x"]. */
  nodeFlags?: string[];
}): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [...(opts.nodeFlags ?? []), "--import", "tsx", "src/adapters/node/main.ts"],
    {
      cwd: opts.root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...BENCH_LIMITS, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const kill = () => child.kill("SIGKILL");
  // Interrupted benchmark: take the server down with it (the "exit" event covers process.exit).
  const onSignal = () => {
    kill();
    process.exit(130);
  };
  process.once("exit", kill);
  for (const s of SIGNALS) process.once(s, onSignal);

  const stop = async () => {
    process.off("exit", kill);
    for (const s of SIGNALS) process.off(s, onSignal);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(kill, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    const url = await waitForUrl(child, () => stderr);
    return { url, pid: child.pid ?? -1, stop, stderrTail: () => stderr };
  } catch (e) {
    await stop();
    throw e;
  }
}

function waitForUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => fail(new Error(`server did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onData = (d: string) => {
      out += d;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        cleanup();
        resolve(m[1]);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`server exited with ${code} before starting`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
    };
    const fail = (e: Error) => {
      cleanup();
      reject(new Error(`${e.message}\n--- server stderr ---\n${stderr()}`));
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.on("exit", onExit);
  });
}
