/**
 * Configuration. Every setting is an environment variable (or a Workers binding) with a
 * documented default; `parseEnv` is pure and is the only place settings are interpreted.
 * A bad value fails start-up with a message naming the setting.
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { MAX_BOUNCE_LOCAL_PART } from "./modules/delivery/delivery.verp";
import {
  assetFilesOf,
  BUNDLED_CAMPAIGNS,
  type Campaign,
  type CampaignAssets,
  CampaignError,
  MAX_ASSET_BYTES,
  parseCampaign,
} from "./modules/letters/letters.campaign";

/** The published development secret: fine for a laptop, refused wherever it could matter. */
export const DEV_TOKEN_SECRET = "dev-only-token-secret-change-me";

const PROXY_SHORTHANDS: Record<string, string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

function hostCidr(ip: string): string | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) return `${ip}/32`;
  if (ipaddr.IPv6.isValid(ip)) return `${ip}/128`;
  return undefined;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);
/** A host name or address that only this machine can reach. */
export const isLoopbackHost = (host: string) =>
  LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

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
  /**
   * Base of the VERP return path: each message's envelope sender is `local+<signed token>@domain`
   * of this address, so bounces name the message they are about. Default: MAIL_FROM (plus
   * addressing brings them to that mailbox if nothing else listens). Local part at most 15
   * characters (the token takes the rest of SMTP's 64).
   */
  BOUNCE_ADDRESS: z.email().optional(),
  /**
   * Node: port of the inbound SMTP listener that receives bounce reports (RFC 3464 DSNs) for
   * the bounce address's domain, e.g. 2525 behind your MX. 0 (default): no listener.
   */
  BOUNCE_SMTP_PORT: int(0, 65535).default(0),
  /** Interface the bounce listener binds; loopback unless your MX forwards from elsewhere. */
  BOUNCE_SMTP_HOST: z.string().min(1).default("127.0.0.1"),
  /**
   * Signing secret of the Resend webhook (`whsec_...`, from Resend's dashboard) that reports
   * bounces to POST /webhooks/resend. Unset: that route answers 404.
   */
  RESEND_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "the signing secret from Resend, starting whsec_")
    .optional(),
  /**
   * Appended to the supporter's name in From: "Jane Doe via #SpeakUpForBabies". Unset: "via" and
   * the campaign file's hashtag, so a re-skinned campaign's letters carry its own name.
   */
  MAIL_FROM_SUFFIX: z.string().min(1).max(60).optional(),
  /**
   * The root secret: keys for emailed links and for email fingerprints (the suppression list) are
   * derived from it (HKDF), never used as-is. The published dev default is refused whenever mail
   * can leave (reflect, live) or the server listens beyond loopback. It roots the suppression
   * list, so keep it for the life of the campaign; rotate link keys with LINK_KEY_ID instead.
   */
  TOKEN_SECRET: z.string().min(16, "at least 16 characters").default(DEV_TOKEN_SECRET),
  /** Unconfirmed letters expire after this many days (one reminder is sent half-way). */
  LETTER_CONFIRM_TTL_DAYS: int(1, 60).default(7),
  /** Days after sending that the "did your MP reply?" email goes out. */
  LETTER_FOLLOWUP_DAYS: int(1, 90).default(14),
  /**
   * Weeks after a letter was sent before its writer is offered a one-click follow-up ("chase")
   * letter, unless they told us the representative replied. Representatives' offices commonly
   * answer within two to four weeks. The chase letter carries the writer's postal address, which
   * RETENTION_DAYS removes, so the chase must fall due at least a week before that (checked at
   * start-up): 3 weeks with the default 28 days.
   */
  LETTER_CHASE_AFTER_WEEKS: int(1, 52).default(3),
  /**
   * A representative's reply rate (the share of their constituents' follow-up answers saying
   * they replied) is shown publicly only once at least this many answered: below it, one or two
   * answers would say more about those supporters than about the office.
   */
  REPLY_RATE_MIN_ANSWERS: int(1, 10_000).default(10),
  /**
   * Node: minutes between checks for digests due to representatives' offices (they go only when
   * the campaign file turns digests on; Workers: the hourly cron). 0 turns the timer off.
   */
  DIGEST_CHECK_MINUTES: int(0, 24 * 60).default(60),
  /** A person may write to the same representative once per this many days. */
  LETTER_SAME_RECIPIENT_DAYS: int(0, 365).default(30),
  /** Letters one representative may receive per UTC day (beyond this, submits are refused). */
  LETTER_RECIPIENT_DAILY_CAP: int(1, 1_000_000).default(1000),
  /**
   * Letter submits per client address per hour, and per email address per day. The address limit
   * is generous (a school or office shares one address; 100 people must be able to write in an
   * afternoon); the per-email, per-recipient and daily-cap limits do the real work.
   */
  LETTER_LIMIT_PER_IP_HOUR: int(1, 100_000).default(200),
  LETTER_LIMIT_PER_EMAIL_DAY: int(1, 1000).default(5),
  /**
   * Similarity (Jaccard index of two letters' own words: the campaign's wording and the asks'
   * text left out) at or above which a confirmed letter is held for a moderator. 0.5 is
   * WriteToThem's MAX_MESSAGE_SIMILARITY: copies with a line or every fourth word changed score
   * about 0.6-0.9; distinct personal letters on the same subject score under 0.2.
   */
  LETTER_SIMILARITY_HOLD: z.coerce.number().min(0.1).max(1).default(0.5),
  /** Attempts before an outbox row is dead. With backoff this spans roughly a day. */
  OUTBOX_MAX_ATTEMPTS: int(1, 50).default(8),
  /** How long a claimed row is reserved for its sender; past it the row is reclaimed (crash recovery). */
  OUTBOX_LEASE_SECONDS: int(5, 3600).default(120),
  /** Rows claimed per worker pass. */
  OUTBOX_BATCH: int(1, 1000).default(50),
  /** The Node worker loop's pause between passes when idle; 0 turns the loop off. */
  OUTBOX_POLL_MS: int(0, 3_600_000).default(2000),
  /**
   * Workers: database queries one background invocation (a cron run, a queue batch) may make.
   * D1 allows 1,000 queries per invocation on the Workers Paid plan and 50 on Free; jobs stop
   * short of this and leave the rest for the next run (the Node build has no such limit).
   */
  QUERY_BUDGET: int(20, 100_000).default(900),

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
  /** Named on the privacy notice as the data controller. Unset: the campaign file's `organisation`. */
  PRIVACY_CONTROLLER: z.string().min(2).max(200).optional(),
  /** Where supporters write about their data; shown on the privacy notice. */
  PRIVACY_CONTACT_EMAIL: z.email().default("privacy@speakup.invalid"),
  /**
   * Letter text, supporters' postal addresses and the similarity data derived from the text are
   * removed this many days after the letter was sent (or, for a letter never sent, after it was
   * written). 28 days, as WriteToThem keeps messages: long enough for a bounce or a question.
   * The counts stay.
   */
  RETENTION_DAYS: int(1, 3650).default(28),
  /**
   * Names and email addresses are removed from letters, their outbox rows and the delivery log
   * this many days after the letter was sent (or written, if never sent); counts stay. It must
   * cover the one-letter-per-representative window and the follow-up email, which need them.
   */
  ANONYMISE_DAYS: int(1, 3650).default(60),
  /** How often the Node process runs the retention job; 0 turns the timer off (use the CLI). */
  RETENTION_INTERVAL_MINUTES: int(0, 7 * 24 * 60).default(60),
  /** Export/erasure links by email stay valid this long. */
  PRIVACY_LINK_HOURS: int(1, 168).default(24),
  /** Campaign leads' sessions end this many hours after sign-in. */
  ADMIN_SESSION_HOURS: int(1, 24 * 14).default(12),
  /**
   * Sign-in attempts per account (and per client address, and per trusted browser) before each
   * further attempt must wait: 1 s, then 2, 4, 8 ... up to ADMIN_SIGNIN_MAX_DELAY_SECONDS. Never a
   * lock-out: a lead's own browser (signed in before) is not slowed by someone guessing elsewhere.
   */
  ADMIN_SIGNIN_ATTEMPTS: int(1, 1000).default(5),
  ADMIN_SIGNIN_MAX_DELAY_SECONDS: int(1, 86_400).default(900),
  /**
   * argon2id parameters for campaign leads' passwords (OWASP's minimum: 19 MiB, 2 passes, 1 lane;
   * ~85 ms per hash here, off the event loop). Raising them re-hashes each password at its next
   * sign-in; older bcrypt hashes are verified and upgraded the same way.
   */
  ADMIN_ARGON2_MEMORY_KIB: int(1024, 1_048_576).default(19_456),
  ADMIN_ARGON2_ITERATIONS: int(1, 20).default(2),
  ADMIN_ARGON2_PARALLELISM: int(1, 16).default(1),

  // --- members sync (every parliament: MPs, MSPs, MSs, MLAs) ---------------------------------
  /**
   * Hours between members syncs in the Node server (0 turns the timer off; use the CLI). On
   * Workers the daily cron runs the sync unless this is 0.
   */
  MEMBERS_SYNC_INTERVAL_HOURS: int(0, 24 * 30).default(24),
  /**
   * The guard: a sync that would change more than this share of a parliament's seats (member, party, name or
   * address) is refused and nothing is written. A day of by-elections changes a handful of 650;
   * a broken or partial answer changes hundreds. After a general election, apply it with
   * `npm run cli -- sync:members --body uk_parliament --force` (or `--body scottish_parliament`, …).
   */
  MEMBERS_SYNC_MAX_CHANGED_SHARE: z.coerce.number().min(0.001).max(1).default(0.1),
  /**
   * Members API contact lookups (one request per MP) per sync: new MPs and MPs without an address
   * first, then the least recently checked. 700 checks the whole House every run; a smaller
   * number covers it over several runs (Workers caps the requests one cron run may make).
   */
  MEMBERS_SYNC_CONTACTS: int(0, 5000).default(700),
  /**
   * Whose members the scheduled sync keeps current (comma-separated): uk_parliament (the Members
   * API), scottish_parliament (data.parliament.scot), senedd (the Senedd's members web service),
   * ni_assembly (data.niassembly.gov.uk). A body left out keeps the data it has.
   */
  MEMBERS_SYNC_BODIES: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(["uk_parliament", "scottish_parliament", "senedd", "ni_assembly"]))
        .transform((list) => [...new Set(list)]),
    )
    .default(["uk_parliament", "scottish_parliament", "senedd", "ni_assembly"]),
  /** The Scottish Parliament's open data API (members, constituencies, regions, email addresses). */
  SCOTTISH_PARLIAMENT_API_URL: z.url().default("https://data.parliament.scot/api"),
  /** The Senedd's members web service (Modern.gov: GetCouncillorsByWard). */
  SENEDD_API_URL: z.url().default("https://business.senedd.wales"),
  /** The Northern Ireland Assembly's open data (AIMS members and contact details). */
  NI_ASSEMBLY_API_URL: z.url().default("https://data.niassembly.gov.uk"),

  // --- network, abuse limits, secrets, faults ---------------------------------------------------
  /**
   * Reverse proxies whose X-Forwarded-For is believed, as IP addresses or CIDR ranges (comma or
   * space separated), plus the shorthands `loopback` and `private`. Unset: nobody's; the client
   * is the socket's peer. On Workers the client is Cloudflare's CF-Connecting-IP (never on Node).
   */
  TRUSTED_PROXY: z
    .string()
    .default("")
    .transform((s, ctx) => {
      const out: string[] = [];
      for (const item of s.split(/[\s,]+/).filter(Boolean)) {
        const cidrs = PROXY_SHORTHANDS[item] ?? [item.includes("/") ? item : hostCidr(item)];
        for (const cidr of cidrs) {
          if (!cidr || !ipaddr.isValidCIDR(cidr)) {
            ctx.addIssue({
              code: "custom",
              message: `"${item}" is not an IP address, a CIDR range, "loopback" or "private"`,
            });
            return z.NEVER;
          }
          out.push(cidr);
        }
      }
      return out;
    }),
  /**
   * Largest request body accepted on any route, in KB, checked before anything is parsed (with or
   * without Content-Length). 320 KB holds the longest letter and story written entirely in
   * four-byte characters and form-encoded (9-12 bytes a character).
   */
  BODY_LIMIT_KB: int(16, 10_240).default(320),
  /** Requests per client address per hour for each group of routes (see src/http/rate-limit.ts). */
  LOOKUP_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(1200),
  PREVIEW_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(600),
  PLEDGE_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(200),
  RESEND_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(60),
  PRIVACY_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(30),
  /** Privacy requests (export or erasure links) per email address per day, whoever asks. */
  PRIVACY_LIMIT_PER_EMAIL_DAY: int(1, 1000).default(5),
  /**
   * At most one export (or erasure) link is mailed to an address in this many minutes, however
   * often it is asked for: the privacy form can't be used to flood someone's inbox. The link sent
   * stays valid for PRIVACY_LINK_HOURS.
   */
  PRIVACY_MAIL_WINDOW_MINUTES: int(1, 7 * 24 * 60).default(60),
  SIGNIN_LIMIT_PER_IP_HOUR: int(1, 1_000_000).default(60),
  /**
   * The key id of the current link key (HKDF of TOKEN_SECRET and this id); it travels in every
   * emailed link. To rotate, set a new id and list the old one in LINK_KEY_IDS_PREVIOUS until its
   * links have expired (the longest, a follow-up answer link, lives about 104 days).
   */
  LINK_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9]{1,16}$/, "letters and digits, at most 16")
    .default("1"),
  LINK_KEY_IDS_PREVIOUS: z
    .string()
    .default("")
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9]{1,16}$/, "key ids: letters and digits, at most 16"))),
  /** Consecutive upstream failures that open the circuit breaker, and how long it stays open. */
  UPSTREAM_BREAKER_FAILURES: int(1, 1000).default(5),
  UPSTREAM_BREAKER_COOLDOWN_SECONDS: int(1, 3600).default(30),
  /**
   * Node: how long a write waits (retrying off the event loop) while another process holds the
   * SQLite write lock, before the request is answered 503 with Retry-After.
   */
  DB_BUSY_WAIT_MS: int(0, 60_000).default(5000),
  /** Node: on SIGTERM/SIGINT, how long in-flight requests and sends may take to finish. */
  SHUTDOWN_GRACE_SECONDS: int(1, 600).default(20),

  // --- partners (self-service, webhooks) --------------------------------------------------------
  /** A partner contact's emailed invitation link is valid this long. */
  PARTNER_INVITE_HOURS: int(1, 24 * 30).default(72),
  /**
   * Per-attempt timeout of a webhook delivery. Short: a partner's slow endpoint must not hold up
   * the outbox worker; a timeout is a failed attempt, retried with backoff like any other.
   */
  WEBHOOK_TIMEOUT_MS: int(500, 30_000).default(5000),
  /**
   * After a partner rotates its webhook secret, deliveries carry a signature under the old
   * secret too for this long, so its receiver can switch at leisure (0: the old one stops at once).
   */
  WEBHOOK_SECRET_GRACE_HOURS: int(0, 24 * 30).default(24),
  /** Webhook deliveries (their bodies carry what supporters agreed to share) are deleted this long after they were queued. */
  WEBHOOK_KEEP_DAYS: int(1, 365).default(30),
  /**
   * Allow webhook URLs on http:// and on loopback or private addresses. For tests and local
   * development only: refused unless PUBLIC_URL is on loopback, since it would let a partner's
   * URL reach the campaign's own network (SSRF).
   */
  WEBHOOK_ALLOW_PRIVATE: onOff.default(false),
});

export type Env = z.output<typeof EnvSchema>;
/**
 * Settings plus the campaign (data/campaigns/<CAMPAIGN_ID>.json) and the pictures its branding
 * names (beside it), all checked at start-up.
 */
export type Config = Omit<Env, "MAIL_FROM_SUFFIX" | "PRIVACY_CONTROLLER"> & {
  PUBLIC_URL: string;
  /** As set, or "via <the campaign's hashtag>". */
  MAIL_FROM_SUFFIX: string;
  /** As set, or the campaign's organisation. */
  PRIVACY_CONTROLLER: string;
  /** Whether PUBLIC_URL was set, or is the default for this machine (http://localhost:PORT). */
  publicUrlSet: boolean;
  campaign: Campaign;
  assets: CampaignAssets;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parse a record of strings (process.env or Workers bindings). Empty strings count as unset.
 * `campaigns` maps campaign ids to their file's contents: the Node build reads data/campaigns/
 * at start-up (so edits need no rebuild); tests and Workers use the files bundled at build time.
 * `assets` are the pictures beside them by file name; when given, every picture the campaign's
 * branding names must be there (a unit test that passes none skips that check).
 */
export function parseEnv(
  record: Record<string, unknown>,
  campaigns: Record<string, unknown> = BUNDLED_CAMPAIGNS,
  assets?: CampaignAssets,
): Config {
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
  // Modes that send real mail need a relay, and must not sign links with a published key.
  const modeProblems: string[] = [];
  if (env.MAIL_MODE !== "capture" && !env.SMTP_URL && !env.MAIL_API_URL)
    modeProblems.push(`  SMTP_URL (or MAIL_API_URL on Workers): required when MAIL_MODE=${env.MAIL_MODE}`);
  if (env.SMTP_URL) {
    // A user without a password is a half-pasted setting: the relay would refuse every message
    // (535) and the outbox would fill up. Say so now.
    const url = URL.canParse(env.SMTP_URL) ? new URL(env.SMTP_URL) : undefined;
    if (!url?.hostname)
      modeProblems.push("  SMTP_URL: not a URL such as smtp://user:password@smtp.example.org:587");
    else if (url.username && !url.password)
      modeProblems.push("  SMTP_URL: names a user but no password (smtp://user:password@host:port)");
  }
  if (isPlaceholderSecret(env.TOKEN_SECRET)) {
    if (env.MAIL_MODE !== "capture")
      modeProblems.push(
        `  TOKEN_SECRET: set a real secret when MAIL_MODE=${env.MAIL_MODE} (mail leaves this machine)`,
      );
    else if (!isLoopbackHost(env.HOST))
      modeProblems.push(
        `  TOKEN_SECRET: set a real secret when HOST=${env.HOST} (reachable beyond this machine)`,
      );
  }
  if (env.LINK_KEY_IDS_PREVIOUS.includes(env.LINK_KEY_ID))
    modeProblems.push("  LINK_KEY_IDS_PREVIOUS: must not contain the current LINK_KEY_ID");
  // reflect sends real mail too (back to supporters), and receiving servers refuse a reserved domain.
  if (env.MAIL_MODE !== "capture" && isPlaceholderDomain(env.MAIL_FROM))
    modeProblems.push(
      `  MAIL_FROM: set the campaign's real address when MAIL_MODE=${env.MAIL_MODE} (${env.MAIL_FROM} is a placeholder)`,
    );
  if (env.MAIL_MODE !== "capture" && env.BOUNCE_ADDRESS && isPlaceholderDomain(env.BOUNCE_ADDRESS))
    modeProblems.push(`  BOUNCE_ADDRESS: set a real address when MAIL_MODE=${env.MAIL_MODE}`);
  if (env.ANONYMISE_DAYS < env.RETENTION_DAYS)
    modeProblems.push(
      "  ANONYMISE_DAYS: must be at least RETENTION_DAYS (names go last, with the addresses)",
    );
  if (env.ANONYMISE_DAYS < env.LETTER_SAME_RECIPIENT_DAYS)
    modeProblems.push(
      "  ANONYMISE_DAYS: must be at least LETTER_SAME_RECIPIENT_DAYS (that rule compares email addresses)",
    );
  if (env.ANONYMISE_DAYS < env.LETTER_FOLLOWUP_DAYS + 7)
    modeProblems.push(
      "  ANONYMISE_DAYS: must be at least LETTER_FOLLOWUP_DAYS + 7 (the follow-up email needs the address)",
    );
  if (
    env.WEBHOOK_ALLOW_PRIVATE &&
    (!isLoopbackHost(env.HOST) || (env.PUBLIC_URL && !isLoopbackHost(new URL(env.PUBLIC_URL).hostname)))
  )
    modeProblems.push(
      "  WEBHOOK_ALLOW_PRIVATE: only for tests and local development (PUBLIC_URL on loopback): it lets webhooks reach private addresses",
    );
  if (env.LETTER_CHASE_AFTER_WEEKS * 7 + 7 > env.RETENTION_DAYS)
    modeProblems.push(
      `  LETTER_CHASE_AFTER_WEEKS: must fall due at least 7 days before RETENTION_DAYS removes the writer's address (${env.LETTER_CHASE_AFTER_WEEKS} weeks + 7 days > ${env.RETENTION_DAYS} days); lower it or raise RETENTION_DAYS`,
    );
  const bounceLocal = (env.BOUNCE_ADDRESS ?? env.MAIL_FROM).split("@")[0] ?? "";
  if (bounceLocal.length > MAX_BOUNCE_LOCAL_PART)
    modeProblems.push(
      `  BOUNCE_ADDRESS: the local part of ${env.BOUNCE_ADDRESS ? "BOUNCE_ADDRESS" : "MAIL_FROM"} must be at most ${MAX_BOUNCE_LOCAL_PART} characters to carry a bounce token; set BOUNCE_ADDRESS, e.g. bounces@your-domain`,
    );
  let campaign: Campaign | undefined;
  const file = campaigns[env.CAMPAIGN_ID];
  if (file === undefined) {
    modeProblems.push(
      `  CAMPAIGN_ID: no campaign file data/campaigns/${env.CAMPAIGN_ID}.json (have: ${Object.keys(campaigns).join(", ") || "none"})`,
    );
  } else {
    try {
      campaign = parseCampaign(file, `data/campaigns/${env.CAMPAIGN_ID}.json`);
      if (campaign.id !== env.CAMPAIGN_ID)
        modeProblems.push(
          `  CAMPAIGN_ID: data/campaigns/${env.CAMPAIGN_ID}.json has id "${campaign.id}"; the file name and its id must agree`,
        );
      for (const a of assets ? assetFilesOf(campaign) : []) {
        const found = assets?.[a.file];
        if (!found)
          modeProblems.push(
            `  CAMPAIGN_ID: data/campaigns/${env.CAMPAIGN_ID}.json ${a.path}: no picture data/campaigns/${a.file}`,
          );
        else if (found.body.byteLength > MAX_ASSET_BYTES)
          modeProblems.push(
            `  CAMPAIGN_ID: data/campaigns/${a.file} (${a.path}) is ${Math.round(found.body.byteLength / 1024)} KB; at most ${MAX_ASSET_BYTES / 1024} KB keeps the front page quick on a phone`,
          );
      }
    } catch (e) {
      if (!(e instanceof CampaignError)) throw e;
      modeProblems.push(`  CAMPAIGN_ID: ${e.message.replace(/\n/g, "\n  ")}`);
    }
  }
  if (modeProblems.length || !campaign)
    throw new ConfigError(`Invalid configuration:\n${modeProblems.join("\n")}`);
  return {
    ...env,
    PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ""),
    publicUrlSet: env.PUBLIC_URL !== undefined,
    MAIL_FROM_SUFFIX: env.MAIL_FROM_SUFFIX ?? `via ${campaign.hashtag}`,
    PRIVACY_CONTROLLER: env.PRIVACY_CONTROLLER ?? campaign.organisation,
    campaign,
    assets: assets ?? {},
  };
}

/** An address at a reserved top-level domain (RFC 2606/6761): never deliverable. */
export function isPlaceholderDomain(address: string): boolean {
  return /\.(invalid|test|example|localhost)$/i.test(address.trim());
}

/** The published default, or an obvious placeholder someone forgot to replace. */
export function isPlaceholderSecret(secret: string): boolean {
  return secret === DEV_TOKEN_SECRET || /change-?me/i.test(secret);
}
