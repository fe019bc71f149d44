/**
 * Campaign leads' passwords on Workers, for now: Workers can't load @node-rs/argon2 (a native
 * module), so this verifies only bcrypt hashes (bcryptjs, pure JS) and refuses to make new ones.
 * Leads are created with the Node CLI; an argon2id hash made there is stored as a PHC string, so
 * a WebAssembly argon2 can verify it here later without a migration (the Workers issue).
 */
import bcrypt from "bcryptjs";
import type { Logger, PasswordHasher } from "../../deps";
import { AppError } from "../../lib/errors";
import { isBcrypt } from "../../lib/passwords";

/** A bcrypt hash of a random password (cost 10): what an unknown address is compared against. */
const DUMMY_BCRYPT = "$2b$10$nygfgONWtMiWduUE3EmeVOpucAoc3ZMkVtmtV3mXvwTE.S2lh976.";

export function legacyPasswordHasher(logger: Logger): PasswordHasher {
  return {
    async hash() {
      throw new AppError("internal", "New passwords are set with the Node CLI (npm run cli -- user:create).");
    },
    async verify(stored, password) {
      if (isBcrypt(stored)) return bcrypt.compare(password, stored);
      logger.warn("password hash not verifiable on Workers yet", { scheme: stored.split("$")[1] ?? "" });
      return false;
    },
    // Never re-hash here: hash() can't make argon2id on Workers.
    needsRehash: () => false,
    dummyHash: async () => DUMMY_BCRYPT,
  };
}
