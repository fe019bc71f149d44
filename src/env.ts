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

  // --- letters and delivery -------------------------------------------------------------------
  /**
   * capture (default): nothing leaves the process; mail is stored in captured_mail and shown at
   * /dev/mail. reflect: mail meant for an MP or candidate goes to the supporter instead (needs
   * SMTP_URL). live: real recipients (needs SMTP_URL, MAIL_FROM and a real TOKEN_SECRET).
   */
  MAIL_MODE: z.enum(["capture", "reflect", "live"]).default("capture"),
  /** e.g. smtp://user:pass@smtp.example.org:587 or smtps://…:465. Required unless MAIL_MODE=capture. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "an smtp:// or smtps:// URL")
    .optional(),
  /** Simultaneous SMTP connections in the pool. */
  SMTP_POOL_SIZE: int(1, 50).default(5),
  /**
   * Workers: the mail provider's HTTP endpoint (Resend's POST /emails shape), used instead of
   * SMTP_URL, which Workers can't reach. Required there unless MAIL_MODE=capture.
   */
  MAIL_API_URL: z.url().optional(),
  /** Workers: the provider's API key, sent as a Bearer token. A secret: `wrangler secret put`. */
  MAIL_API_KEY: z.string().min(1).optional(),
  /** The campaign's sending address; the supporter's name is shown as the display name. */
  MAIL_FROM: z.email().default("campaign@speakup.invalid"),
  /** Appended to the supporter's name in From: "Jane Doe via #SpeakUpForBabies". */
  MAIL_FROM_SUFFIX: z.string().min(1).max(60).default("via #SpeakUpForBabies"),
  /** HMAC key for links in emails (confirm, follow-up). The dev default is refused in live mode. */
  TOKEN_SECRET: z.string().min(16, "at least 16 characters").default("dev-only-token-secret-change-me"),
  /** Unconfirmed letters expire after this many days (one reminder is sent half-way). */
  LETTER_CONFIRM_TTL_DAYS: int(1, 60).default(7),
  /** Days after sending that the "did your MP reply?" email goes out. */
  LETTER_FOLLOWUP_DAYS: int(1, 90).default(14),
  /** A person may write to the same representative once per this many days. */
  LETTER_SAME_RECIPIENT_DAYS: int(0, 365).default(30),
  /** Letters one representative may receive per UTC day (beyond this, submits are refused). */
  LETTER_RECIPIENT_DAILY_CAP: int(1, 1_000_000).default(1000),
  /** Submits per IP address per hour, and per email address per day. */
  LETTER_LIMIT_PER_IP_HOUR: int(1, 100_000).default(30),
  LETTER_LIMIT_PER_EMAIL_DAY: int(1, 1000).default(5),
  /** Estimated Jaccard similarity of supporters' own words above which a letter is held for moderation. */
  LETTER_SIMILARITY_HOLD: z.coerce.number().min(0.1).max(1).default(0.8),
  /** Attempts before an outbox row is dead. With backoff this spans roughly a day. */
  OUTBOX_MAX_ATTEMPTS: int(1, 50).default(8),
  /** How long a claimed row is reserved for its sender; past it the row is reclaimed (crash recovery). */
  OUTBOX_LEASE_SECONDS: int(5, 3600).default(120),
  /** Rows claimed per worker pass. */
  OUTBOX_BATCH: int(1, 1000).default(50),
  /** The Node worker loop's pause between passes when idle; 0 turns the loop off. */
  OUTBOX_POLL_MS: int(0, 3_600_000).default(2000),

  // --- pledges, dashboard and privacy ---------------------------------------------------------
  /** Campaign id pledges and letters are recorded under (one pledge per email per campaign). */
  CAMPAIGN_ID: z
    .string()
    .regex(/^[a-z0-9-]{1,60}$/, "lower-case letters, digits and dashes")
    .default("manifesto-for-babies"),
  /** Unconfirmed supporter pledges (and unverified MP pledge requests) are deleted after this many days. */
  PLEDGE_CONFIRM_TTL_DAYS: int(1, 60).default(7),
  /** Days an MP/candidate pledge verification link stays valid. */
  REP_PLEDGE_LINK_DAYS: int(1, 90).default(30),
  /** Named on the privacy notice as the data controller. */
  PRIVACY_CONTROLLER: z.string().min(2).max(200).default("The First 1001 Days Movement"),
  /** Where supporters write about their data; shown on the privacy notice. */
  PRIVACY_CONTACT_EMAIL: z.email().default("privacy@speakup.invalid"),
  /**
   * Letter bodies and supporters' postal addresses are scrubbed this many days after the letter
   * was written (the counts stay). 180 days covers the follow-up ("did your MP reply?") and a
   * reasonable period for a supporter's questions.
   */
  RETENTION_DAYS: int(1, 3650).default(180),
  /** How often the Node process runs the retention job; 0 turns the timer off (use the CLI). */
  RETENTION_INTERVAL_MINUTES: int(0, 7 * 24 * 60).default(60),
  /** Export/erasure links by email stay valid this long. */
  PRIVACY_LINK_HOURS: int(1, 168).default(24),
  /** Campaign leads' sessions end this many hours after sign-in. */
  ADMIN_SESSION_HOURS: int(1, 24 * 14).default(12),
  /** Failed sign-ins allowed per account (and per client address) in 15 minutes. */
  ADMIN_SIGNIN_ATTEMPTS: int(1, 1000).default(5),
  /** bcrypt cost for campaign leads' passwords (2^cost rounds); 12 takes ~0.3 s in pure JS. */
  ADMIN_BCRYPT_COST: int(4, 15).default(12),

  // --- members sync (UK Parliament Members API) -----------------------------------------------
  /**
   * Hours between members syncs in the Node server (0 turns the timer off; use the CLI). On
   * Workers the daily cron runs the sync unless this is 0.
   */
  MEMBERS_SYNC_INTERVAL_HOURS: int(0, 24 * 30).default(24),
  /**
   * The guard: a sync that would change more than this share of the seats (MP, party, name or
   * address) is refused and nothing is written. A day of by-elections changes a handful of 650;
   * a broken or partial answer changes hundreds. After a general election, apply it with
   * `npm run cli -- sync:members --force`.
   */
  MEMBERS_SYNC_MAX_CHANGED_SHARE: z.coerce.number().min(0.001).max(1).default(0.1),
  /**
   * Members API contact lookups (one request per MP) per sync: new MPs and MPs without an address
   * first, then the least recently checked. 700 checks the whole House every run; a smaller
   * number covers it over several runs (Workers caps the requests one cron run may make).
   */
  MEMBERS_SYNC_CONTACTS: int(0, 5000).default(700),
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
  // Modes that send real mail need a relay, and live mode must not sign links with the dev key.
  const modeProblems: string[] = [];
  if (env.MAIL_MODE !== "capture" && !env.SMTP_URL && !env.MAIL_API_URL)
    modeProblems.push(`  SMTP_URL (or MAIL_API_URL on Workers): required when MAIL_MODE=${env.MAIL_MODE}`);
  if (env.MAIL_MODE === "live" && env.TOKEN_SECRET === EnvSchema.shape.TOKEN_SECRET.parse(undefined))
    modeProblems.push("  TOKEN_SECRET: set a real secret when MAIL_MODE=live");
  if (env.MAIL_MODE === "live" && env.MAIL_FROM.endsWith(".invalid"))
    modeProblems.push("  MAIL_FROM: set the campaign's real address when MAIL_MODE=live");
  if (modeProblems.length) throw new ConfigError(`Invalid configuration:\n${modeProblems.join("\n")}`);
  return { ...env, PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, "") };
}
