/**
 * The ports the domain uses. Each runtime's composition root (adapters/node/main.ts,
 * adapters/workers/worker.ts) builds one Deps; tests build theirs in tests/support. Domain code
 * never reaches for process.env, a driver or the wall clock directly.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./db/schema";
import type { DevolvedBody } from "./db/schema.devolved";
import type { Config } from "./env";

/** drizzle over better-sqlite3 ("sync") or D1 ("async"); domain code always `await`s. */
// biome-ignore lint/suspicious/noExplicitAny: the driver's raw result type differs per runtime
export type Db = BaseSQLiteDatabase<"sync" | "async", any, typeof schema>;

export type Statement = BatchItem<"sqlite">;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Ids {
  uuid(): string;
}

export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

// --- upstream data sources (postcodes.io, UK Parliament Members API) ------------------------------

/** A postcode as an upstream service knows it, independent of which API answered. */
export type RemotePostcode =
  | {
      kind: "found";
      postcode: string;
      constituencyCode: string | null;
      constituencyName: string | null;
      /** The postcode's Senedd constituency (2026) by name, when the service says (Welsh postcodes). */
      seneddName?: string | null;
    }
  | { kind: "terminated"; postcode: string }
  | { kind: "not_found"; postcode: string };

/**
 * A Scottish postcode's Holyrood constituency and region of 2026, as the source gives them
 * (codes when it has them, names always). `not_found`: the Scottish Postcode Directory doesn't
 * hold it.
 */
export type RemoteHolyroodAreas =
  | {
      kind: "found";
      constituencyCode: string | null;
      constituencyName: string | null;
      regionCode: string | null;
      regionName: string | null;
    }
  | { kind: "not_found" };

export interface PostcodeSource {
  /** Throws AppError('upstream_unavailable') when the service can't be reached in time. */
  lookup(postcode: string): Promise<RemotePostcode>;
  /** The Scottish Parliament areas of a Scottish postcode. Throws as `lookup`. */
  holyrood(postcode: string): Promise<RemoteHolyroodAreas>;
}

export type RemoteMember = {
  parliamentId: number | null;
  name: string;
  party: string | null;
  partyAbbreviation: string | null;
  /** The seat's name as the source spells it (matched to our 2024 seats by name). */
  constituencyName: string;
  /** The seat's ONS code, when the source carries it (our CSV does; the Members API does not). */
  constituencyCode?: string | null;
  /** Official address when the source has one (Members API contact details). */
  email?: string | null;
  /** Date the member took the seat (YYYY-MM-DD), when known. */
  since?: string | null;
};

export type RemoteSeat = { kind: "sitting"; member: RemoteMember } | { kind: "vacant" } | { kind: "unknown" };

export interface MemberSource {
  /** The current representation of a constituency, by its exact 2024 name. */
  seatFor(constituencyName: string): Promise<RemoteSeat>;
  /**
   * Every current MP (House of Commons), paging through the API. Throws
   * AppError('upstream_unavailable') on a failed, malformed or partial answer (fewer members
   * than the API said it has), never returns part of the House.
   */
  allCurrent(): Promise<RemoteMember[]>;
  /** The member's official email address, if published. */
  emailFor(parliamentId: number): Promise<string | null>;
}

/** A member of a devolved parliament as its official data describes them. */
export type RemoteDevolvedMember = {
  /** The member's id at the source (PersonID, Senedd member id, AIMS PersonId); null in files without ids. */
  sourceId: number | null;
  name: string;
  party: string | null;
  /** The constituency or region as the source names it (matched to ours by name). */
  areaName: string;
  areaKind: "constituency" | "region";
  /** The area's GSS code, when the source carries it (our CSVs do; the parliaments' data does not). */
  areaCode?: string | null;
  /** Official address; undefined = not read this time (a known address is kept), null = none published. */
  email?: string | null;
  contactUrl?: string | null;
  since?: string | null;
};

export interface DevolvedMemberSource {
  /**
   * Every current member. Throws AppError('upstream_unavailable') on a failed, malformed or empty
   * answer; never returns part of the parliament knowingly.
   */
  allCurrent(): Promise<RemoteDevolvedMember[]>;
}

export interface Deps {
  db: Db;
  /**
   * Run statements all-or-nothing: a transaction on better-sqlite3, a batch on D1. Resolves to
   * the number of rows each statement changed (in order), so a conditional UPDATE can tell
   * whether it matched: that is how the outbox state machine knows a transition happened.
   */
  atomic(statements: Statement[]): Promise<number[]>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  config: Config;
  postcodeSource: PostcodeSource;
  memberSource: MemberSource;
  /** The devolved parliaments' official member data. */
  devolvedSources: Record<DevolvedBody, DevolvedMemberSource>;
  templates: Templates;
  /** Outbound mail transport (nodemailer on Node, a mail API on Workers, the DB in capture mode). */
  mailer: Mailer;
  /** Tells the runtime's sender that outbox rows are ready (Workers: a Cloudflare Queue). */
  outboxQueue: OutboxQueue;
  /** What the runtime knows about a request's connection (see src/http/client.ts). */
  network: Network;
  /** Per-key request allowances (SQLite on Node, so they survive a restart). */
  rateLimiter: RateLimiter;
  /** Campaign leads' and partner contacts' passwords (argon2id on Node). */
  passwords: PasswordHasher;
  /** Partners' webhook endpoints: one signed POST per call (node:https on Node, fetch on Workers). */
  webhooks: WebhookTransport;
}

/** One webhook delivery attempt, fully prepared (body signed, headers set). */
export type WebhookRequest = {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Loopback and private addresses allowed (WEBHOOK_ALLOW_PRIVATE: tests, local development). */
  allowPrivate: boolean;
};

/**
 * How an attempt ended. `status`: the endpoint answered (any status; a 3xx is not followed).
 * `refused`: we would not connect (a private or loopback address, a bad URL); `timeout` and
 * `network`: no answer in time, or no connection. The response body is never read into memory
 * or stored: it may hold anything.
 */
export type WebhookOutcome =
  | { kind: "status"; status: number }
  | { kind: "refused" | "timeout" | "network"; detail: string };

export interface WebhookTransport {
  post(request: WebhookRequest): Promise<WebhookOutcome>;
}

/**
 * The connection a request came in on. Only the runtime can say who connected: Node has the
 * socket; on Workers, Cloudflare's edge sets CF-Connecting-IP (replacing any copy a client sent),
 * so that header is believed there and nowhere else.
 */
export interface Network {
  /** The address of the peer that connected to us, as the runtime knows it. */
  peerAddress(request: Request, env: unknown): string | undefined;
  /** The server accepts connections on loopback only (Node HOST=127.0.0.1 / ::1); false on Workers. */
  loopbackListener: boolean;
}

/**
 * Outbox rows that became ready to send (queued, or failed and due again), handed to the
 * runtime's sender after the write that made them ready has committed. Workers: their ids (and
 * nothing else: no personal data in the queue) go on a Cloudflare Queue, delayed until `dueAt`.
 * Node: wakes the outbox loop. Losing a hand-over costs latency, never a message: the outbox
 * table is the source of truth and a sweep finds rows nobody was told about.
 */
export interface OutboxQueue {
  enqueue(rows: { id: string; dueAt: number }[]): Promise<void>;
}

/**
 * `limit` requests per `windowSeconds` per key; `name` keeps different rules' counts apart.
 * `hard`: a cap that must hold exactly however many servers answer (per email per day, per
 * recipient per day), counted in the database on every runtime; other rules are per-request
 * flood limits that a runtime may count more loosely (Workers: Cloudflare's rate limiter).
 */
export type RateRule = { name: string; limit: number; windowSeconds: number; hard?: boolean };
export type RateDecision = { allowed: boolean; remaining: number; retryAfterSeconds: number };

export interface RateLimiter {
  /** Count one request for `key` under `rule`, and say whether it is within the allowance. */
  consume(rule: RateRule, key: string): Promise<RateDecision>;
  /** Forget `key`'s count under `rule`. */
  reset(rule: RateRule, key: string): Promise<void>;
}

/**
 * Password hashing. Hashes are self-describing PHC strings (`$argon2id$v=19$m=...`), so another
 * runtime can verify them and a change of parameters is detected per hash.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
  /** The hash uses another algorithm or weaker parameters than configured: re-hash on sign-in. */
  needsRehash(stored: string): boolean;
  /**
   * A hash of a random password made with the configured parameters. A sign-in for an unknown
   * address is checked against it, so it costs exactly what a real one does.
   */
  dummyHash(): Promise<string>;
}

/** Builds the deps for one request (or one job). Runtimes may hand back the same object. */
export type ProvideDeps = (env?: unknown) => Deps;

export interface Templates {
  /** Render `templates/<name>.hbs` (e.g. "pages/home"). Output is HTML-escaped unless the template opts out. */
  render(name: string, data: object): string;
  has(name: string): boolean;
}

export type MailAddress = { name?: string; address: string };

/** One email, fully rendered. Headers are built by the transport; no field may contain CR/LF. */
export interface MailMessage {
  from: MailAddress;
  to: MailAddress;
  replyTo?: MailAddress;
  subject: string;
  text: string;
  /** Stable per outbox row (`<id@domain>`), so a retried send is recognisably the same message. */
  messageId: string;
  /**
   * The envelope sender (Return-Path) when it differs from From: the VERP address
   * `local+<bounce token>@domain` that brings a bounce back to exactly this message.
   */
  envelopeFrom?: string;
  /** The signed bounce token on its own, for providers that report bounces by tag (Resend). */
  bounceToken?: string;
}

/**
 * Sends one message. Resolves on acceptance by the relay. Rejects with a MailError
 * (modules/delivery/delivery.mail.ts) carrying the facts (SMTP code and command, HTTP status,
 * error code); `classifyFailure` there turns them into a verdict the same way for every transport.
 */
export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string; response?: string }>;
  /** Check the relay answers and accepts our login, without sending (SMTP: connect + AUTH); rejects with a MailError. */
  verify?(): Promise<void>;
  /** Release connections (pooled transports). */
  close?(): void;
}
