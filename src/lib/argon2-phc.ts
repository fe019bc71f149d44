/**
 * argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, base64 without padding)
 * over any argon2id implementation: the Workers build computes with WebAssembly (the `argon2id`
 * package), the Node build with @node-rs/argon2, and both read and write the same strings, so a
 * hash made on one runtime verifies on the other.
 */
import type { Argon2Params } from "./passwords";
import { parseArgon2 } from "./passwords";

/** Raw argon2id: the `argon2id` package's computeHash shape. */
export type Argon2idCompute = (params: {
  password: Uint8Array;
  salt: Uint8Array;
  parallelism: number;
  passes: number;
  memorySize: number;
  tagLength: number;
}) => Uint8Array;

/** @node-rs/argon2's defaults, so the two runtimes' hashes look alike. */
const SALT_BYTES = 16;
const TAG_BYTES = 32;

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export function argon2idHash(
  compute: Argon2idCompute,
  password: string,
  params: Argon2Params,
  salt?: Uint8Array,
) {
  const s = salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const tag = compute({
    password: new TextEncoder().encode(password),
    salt: s,
    parallelism: params.parallelism,
    passes: params.iterations,
    memorySize: params.memoryKib,
    tagLength: TAG_BYTES,
  });
  return `$argon2id$v=19$m=${params.memoryKib},t=${params.iterations},p=${params.parallelism}$${b64(s)}$${b64(tag)}`;
}

/** Whether `password` matches the PHC string (argon2id, version 19); false for anything else. */
export function argon2idVerify(compute: Argon2idCompute, stored: string, password: string): boolean {
  const p = parseArgon2(stored);
  if (p?.algorithm !== "argon2id" || !stored.startsWith("$argon2id$v=19$")) return false;
  const [, , , , salt, hash] = stored.split("$");
  if (!salt || !hash) return false;
  let want: Uint8Array;
  let saltBytes: Uint8Array;
  try {
    want = unb64(hash);
    saltBytes = unb64(salt);
  } catch {
    return false;
  }
  if (want.length < 4 || saltBytes.length < 8) return false;
  const got = compute({
    password: new TextEncoder().encode(password),
    salt: saltBytes,
    parallelism: p.parallelism,
    passes: p.iterations,
    memorySize: p.memoryKib,
    tagLength: want.length,
  });
  // Constant time over the tag.
  let diff = got.length ^ want.length;
  for (let i = 0; i < want.length; i++) diff |= (got[i] ?? 0) ^ (want[i] ?? 0);
  return diff === 0;
}
