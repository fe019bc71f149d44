/**
 * Start-up helpers for the Node server: what the banner says, and a clear one-line refusal when
 * the port is taken (before anything else is done: no seeding, no half-started process).
 */
import { createServer } from "node:net";
import type { Config } from "../../env";

/** A start-up problem the operator fixes (printed as one line, no stack trace). */
export class StartError extends Error {
  override name = "StartError";
}

/**
 * The address people (and emailed links) use: PUBLIC_URL when set; otherwise this machine at the
 * port actually bound (PORT=0 picks a free one), which the default PUBLIC_URL then follows too.
 */
export function publicUrlAfterListen(config: Config, port: number): string {
  if (config.publicUrlSet) return config.PUBLIC_URL;
  return `http://localhost:${port}`;
}

/** The start banner: the same address the emails, share links and partner snippet use. */
export function banner(config: Config, listening: { address: string; port: number }): string[] {
  const url = publicUrlAfterListen(config, listening.port);
  const bound = `${listening.address.includes(":") ? `[${listening.address}]` : listening.address}:${listening.port}`;
  return [
    `speakup is running at ${url}  (listening on ${bound}, database: ${config.DATABASE_PATH})`,
    `Try ${url}/find?postcode=ZZ9+9ZZ or ${url}/api/lookup?postcode=ZZ99ZZ`,
  ];
}

/** The message for a port another process holds. */
export const portInUse = (host: string, port: number) =>
  `speakup: port ${port} on ${host} is already in use (is speakup already running?). Stop the other process, or start this one with another PORT.`;

/** Fails with a StartError, before anything else starts, if HOST:PORT can't be bound. */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new StartError(portInUse(host, port))
          : e.code === "EACCES"
            ? new StartError(
                `speakup: not allowed to listen on ${host}:${port} (ports below 1024 need privileges). Set PORT.`,
              )
            : e.code === "EADDRNOTAVAIL"
              ? new StartError(`speakup: HOST=${host} is not an address of this machine.`)
              : e,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
