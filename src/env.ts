/**
 * Configuration. Every setting is an environment variable (or a Workers binding) with a
 * documented default; `parseEnv` is pure and is the only place settings are interpreted.
 * A bad value fails start-up with a message naming the setting.
 */
import { z } from "zod";

const onOff = z
  .enum(["on", "off", "true", "false", "1", "0"])
  .transform((v) => v === "on" || v === "true" || v === "1");

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const EnvSchema = z.object({
  /** TCP port of the Node server. */
  PORT: int(0, 65535).default(3000),
  /** Interface to bind; loopback by default so a dev machine exposes nothing. */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Base URL used in links (emails, widget). Defaults to http://localhost:PORT. */
  PUBLIC_URL: z.url().optional(),
  /** SQLite file of the Node build. Relative paths are relative to the working directory. */
  DATABASE_PATH: z.string().min(1).default("var/speakup.sqlite"),
  /** Load data/ (constituencies, MPs, sample postcodes, test MP) into an empty database at start. */
  SEED: onOff.default(true),
  /** Ask postcodes.io / the Members API when local data has no answer. */
  REMOTE_LOOKUP: onOff.default(true),
  POSTCODES_IO_URL: z.url().default("https://api.postcodes.io"),
  MEMBERS_API_URL: z.url().default("https://members-api.parliament.uk"),
  /** Per-attempt timeout for upstream HTTP calls; a lookup waits at most (retries+1) times this. */
  UPSTREAM_TIMEOUT_MS: int(100, 30_000).default(2500),
  UPSTREAM_RETRIES: int(0, 5).default(1),
  /** How long a remote postcode answer is reused. Postcodes change rarely; a week is safe. */
  LOOKUP_CACHE_TTL_HOURS: int(1, 24 * 365).default(24 * 7),
  /** Democracy Club election id (e.g. parl.2029-05-03) whose candidates are shown; unset = no election. */
  ELECTION_ID: z
    .string()
    .regex(/^[a-z0-9.-]+$/, "a Democracy Club election id such as parl.2029-05-03")
    .optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
});

export type Env = z.output<typeof EnvSchema>;
export type Config = Env & { PUBLIC_URL: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parse a record of strings (process.env or Workers bindings). Empty strings count as unset. */
export function parseEnv(record: Record<string, unknown>): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = record[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = EnvSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = result.data;
  return { ...env, PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, "") };
}
