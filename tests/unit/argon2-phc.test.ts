/**
 * The Workers build's argon2id (WebAssembly, the `argon2id` package) reads and writes the same
 * PHC strings as the Node build's native @node-rs/argon2: checked here in both directions with
 * the real .wasm files; tests/workers/parity.workers.test.ts does it again inside workerd.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hash as nativeHash, verify as nativeVerify } from "@node-rs/argon2";
import setupWasm from "argon2id/lib/setup.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type Argon2idCompute, argon2idHash, argon2idVerify } from "../../src/lib/argon2-phc";

const require = createRequire(import.meta.url);
const wasm = (name: string) => readFileSync(require.resolve(`argon2id/dist/${name}.wasm`));
let compute: Argon2idCompute;
beforeAll(async () => {
  compute = (await setupWasm(
    (imports) => WebAssembly.instantiate(wasm("simd"), imports),
    (imports) => WebAssembly.instantiate(wasm("no-simd"), imports),
  )) as Argon2idCompute;
});

const params = { memoryKib: 1024, iterations: 2, parallelism: 1 };
const PASSWORD = "correct horse battery staple ✓";

describe("argon2id PHC strings across runtimes", () => {
  it("verifies a hash made by @node-rs/argon2 (Node) with the WebAssembly argon2id (Workers)", async () => {
    const stored = await nativeHash(PASSWORD, {
      algorithm: 2,
      memoryCost: 1024,
      timeCost: 2,
      parallelism: 1,
    });
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
    expect(argon2idVerify(compute, stored, PASSWORD)).toBe(true);
    expect(argon2idVerify(compute, stored, `${PASSWORD}!`)).toBe(false);
  });

  it("makes hashes @node-rs/argon2 verifies, with the same parameters and layout", async () => {
    const stored = argon2idHash(compute, PASSWORD, params);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await nativeVerify(stored, PASSWORD)).toBe(true);
    expect(await nativeVerify(stored, "wrong")).toBe(false);
  });

  it("answers false, never throws, for other schemes and damaged strings", () => {
    const good = argon2idHash(compute, PASSWORD, params);
    for (const bad of [
      "",
      "$2b$10$nygfgONWtMiWduUE3EmeVOpucAoc3ZMkVtmtV3mXvwTE.S2lh976.",
      good.replace("argon2id", "argon2i"),
      good.replace("v=19", "v=16"),
      good.slice(0, -10),
      good.replace(/\$[^$]+\$[^$]+$/, "$!!!!$!!!!"),
    ])
      expect(argon2idVerify(compute, bad, PASSWORD)).toBe(false);
  });
});
