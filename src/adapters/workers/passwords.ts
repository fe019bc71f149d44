/**
 * Campaign leads' passwords on Workers: argon2id in WebAssembly (the `argon2id` package from
 * OpenPGP.js), the same PHC strings as the Node build (lib/argon2-phc.ts), so a hash made by
 * either runtime verifies on the other, and the same parameters (ADMIN_ARGON2_*), so a sign-in
 * here re-hashes exactly what Node would. Legacy bcrypt hashes still verify (bcryptjs) and are
 * upgraded by the sign-in that proves them.
 *
 * Workers refuse to compile WebAssembly from bytes at run time: the .wasm files are imported as
 * modules, which wrangler uploads precompiled, and only instantiated here. An argon2id hash at
 * OWASP's parameters (19 MiB, 2 passes) costs tens of milliseconds of CPU: sign-in needs the
 * Workers Paid plan's CPU allowance (the Free plan stops a request at 10 ms).
 */
import noSimd from "argon2id/dist/no-simd.wasm";
import simd from "argon2id/dist/simd.wasm";
import setupWasm from "argon2id/lib/setup.js";
import bcrypt from "bcryptjs";
import type { PasswordHasher } from "../../deps";
import { type Argon2idCompute, argon2idHash, argon2idVerify } from "../../lib/argon2-phc";
import { type Argon2Params, isBcrypt, needsRehash, parseArgon2 } from "../../lib/passwords";

let compute: Promise<Argon2idCompute> | undefined;

/** One WebAssembly instance per isolate (SIMD where the runtime has it, which workerd does). */
function argon2id(): Promise<Argon2idCompute> {
  compute ??= setupWasm(
    async (imports) => ({ module: simd, instance: await WebAssembly.instantiate(simd, imports) }),
    async (imports) => ({ module: noSimd, instance: await WebAssembly.instantiate(noSimd, imports) }),
  ) as Promise<Argon2idCompute>;
  return compute;
}

export function wasmPasswordHasher(params: Argon2Params): PasswordHasher {
  let dummy: Promise<string> | undefined;
  const hash = async (password: string) => argon2idHash(await argon2id(), password, params);
  return {
    hash,
    async verify(stored, password) {
      if (parseArgon2(stored)) return argon2idVerify(await argon2id(), stored, password);
      if (isBcrypt(stored)) return bcrypt.compare(password, stored);
      return false;
    },
    needsRehash: (stored) => needsRehash(stored, params),
    dummyHash: () => {
      dummy ??= hash(crypto.randomUUID());
      return dummy;
    },
  };
}
