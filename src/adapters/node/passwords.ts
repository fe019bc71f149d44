/**
 * Campaign leads' passwords on Node: argon2id via @node-rs/argon2, a native module that hashes
 * and verifies on libuv's thread pool, so a sign-in never holds the event loop (bcryptjs at cost
 * 12 held it for about a second). Hashes made before argon2id (bcrypt) still verify, with
 * bcryptjs, and are upgraded by the sign-in that proves the password.
 */
import { type Algorithm, hash, verify } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import type { PasswordHasher } from "../../deps";
import { type Argon2Params, isBcrypt, needsRehash, parseArgon2 } from "../../lib/passwords";

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, which isolated modules can't reference). */
const ARGON2ID = 2 as Algorithm;

export function argon2PasswordHasher(params: Argon2Params): PasswordHasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKib,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, options),
    async verify(stored, password) {
      if (parseArgon2(stored)) return verify(stored, password).catch(() => false);
      if (isBcrypt(stored)) return bcrypt.compare(password, stored);
      return false;
    },
    needsRehash: (stored) => needsRehash(stored, params),
    // Made once per process with the configured parameters, from a password nobody knows.
    dummyHash: () => {
      dummy ??= hash(crypto.randomUUID(), options);
      return dummy;
    },
  };
}
