/**
 * Password hashes as PHC strings, runtime-neutral: which parameters a stored hash was made with,
 * and whether it should be re-made with the configured ones. Hashing itself is a port
 * (Deps.passwords): argon2id natively on Node (src/adapters/node/passwords.ts).
 */
import type { Config } from "../env";

export type Argon2Params = { memoryKib: number; iterations: number; parallelism: number };

export const argon2Params = (
  config: Pick<Config, "ADMIN_ARGON2_MEMORY_KIB" | "ADMIN_ARGON2_ITERATIONS" | "ADMIN_ARGON2_PARALLELISM">,
): Argon2Params => ({
  memoryKib: config.ADMIN_ARGON2_MEMORY_KIB,
  iterations: config.ADMIN_ARGON2_ITERATIONS,
  parallelism: config.ADMIN_ARGON2_PARALLELISM,
});

/** `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` -> its parameters; null for anything else. */
export function parseArgon2(stored: string): (Argon2Params & { algorithm: string }) | null {
  const m = /^\$(argon2(?:id|i|d))\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
    stored,
  );
  if (!m) return null;
  return {
    algorithm: m[1] as string,
    memoryKib: Number(m[2]),
    iterations: Number(m[3]),
    parallelism: Number(m[4]),
  };
}

/** bcrypt's modular-crypt format ($2a$, $2b$, $2y$): hashes made before argon2id. */
export const isBcrypt = (stored: string) => /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(stored);

/** Anything but argon2id with exactly the configured parameters is re-hashed at the next sign-in. */
export function needsRehash(stored: string, want: Argon2Params): boolean {
  const p = parseArgon2(stored);
  if (!p) return true;
  return (
    p.algorithm !== "argon2id" ||
    p.memoryKib !== want.memoryKib ||
    p.iterations !== want.iterations ||
    p.parallelism !== want.parallelism
  );
}
