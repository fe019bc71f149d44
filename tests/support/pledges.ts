/**
 * Helpers for the pledge, dashboard and privacy tests: a few real-looking seats, service mail
 * sent from the outbox after every request (as the worker would) with the captured mail
 * collected in `sent`, and link extraction from that mail.
 */
import { gt } from "drizzle-orm";
import { capturedMail } from "../../src/db/schema.letters";
import type { MailAddress, MailMessage } from "../../src/deps";
import { emailKey } from "../../src/lib/email";
import { claimDue } from "../../src/modules/delivery/delivery.machine";
import { activeMailer, sendClaimed } from "../../src/modules/delivery/delivery.service";
import { processPrivacyRequests } from "../../src/modules/privacy/privacy.service";
import { testApp } from "./deps";

export const SEATS = [
  {
    onsCode: "E14001063",
    name: "Aldershot",
    nation: "England",
    region: "South East",
    q: 10,
    r: 2,
    pc: "GU11 1AA",
  },
  {
    onsCode: "S14000021",
    name: "Edinburgh East",
    nation: "Scotland",
    region: "Scotland",
    q: 8,
    r: 12,
    pc: "EH8 8AA",
  },
  {
    onsCode: "W07000081",
    name: "Cardiff East",
    nation: "Wales",
    region: "Wales",
    q: 6,
    r: 3,
    pc: "CF24 1AA",
  },
] as const;

export type SentMail = MailMessage;

/** `"Name" <address>` / `<address>` as the capture mailer writes it, back to an address. */
function parseAddress(header: string): MailAddress {
  const m = /^(?:"((?:[^"\\]|\\.)*)" )?<([^>]*)>$/.exec(header);
  if (!m) throw new Error(`unexpected captured address: ${header}`);
  return { name: m[1]?.replace(/\\(.)/g, "$1"), address: m[2] ?? "" };
}

/**
 * The app (MAIL_MODE=capture unless `env` says otherwise). After every request the due service
 * mail (pledge and privacy links) goes through the worker's send step, and what was captured is
 * appended to `sent`, in order. Only `service` rows are claimed, so letter rows a test sets up
 * stay in the state it put them in.
 */
export function pledgeTestApp(
  env: Record<string, string> = {},
  opts: { campaign?: Record<string, unknown> } = {},
) {
  const t = testApp(env, opts);
  const sent: SentMail[] = [];
  let seen = 0;
  const deliver = async () => {
    // Privacy requests are answered by the worker's pass, off the response path.
    await processPrivacyRequests(t.deps);
    const due = await claimDue(t.deps, 100, { kinds: ["service"] });
    for (const row of due) await sendClaimed(t.deps, activeMailer(t.deps), row);
    const rows = await t.deps.db
      .select()
      .from(capturedMail)
      .where(gt(capturedMail.id, seen))
      .orderBy(capturedMail.id);
    for (const r of rows) {
      if (r.id <= seen) continue; // a parallel request's drain took it already
      seen = r.id;
      sent.push({
        from: parseAddress(r.fromHeader),
        to: parseAddress(r.toHeader),
        replyTo: r.replyTo ? parseAddress(r.replyTo) : undefined,
        subject: r.subject,
        text: r.text,
        messageId: r.messageId,
      });
    }
  };
  const request = (async (...args: Parameters<typeof t.request>) => {
    const res = await t.request(...args);
    await deliver();
    return res;
  }) as typeof t.request;
  const now = t.clock.now();
  for (const [i, s] of SEATS.entries()) {
    t.sqlite
      .prepare(
        "insert into constituencies (ons_code, name, nation, region_code, region_name, hex_q, hex_r) values (?,?,?,?,?,?,?)",
      )
      .run(s.onsCode, s.name, s.nation, `E1200000${i}`, s.region, s.q, s.r);
    t.sqlite
      .prepare("insert into postcodes (postcode, constituency_code) values (?, ?)")
      .run(s.pc, s.onsCode);
    t.sqlite
      .prepare(
        "insert into members (constituency_code, status, parliament_id, name, party, email, updated_at) values (?,?,?,?,?,?,?)",
      )
      .run(
        s.onsCode,
        "sitting",
        4000 + i,
        `MP ${s.name}`,
        i === 1 ? "SNP" : "Labour",
        `mp${i}@parliament.invalid`,
        now,
      );
  }
  return { ...t, request, sent, deliver };
}

/** The first link in a mail body that starts with PUBLIC_URL + path. */
export function linkIn(mail: SentMail | undefined, path: string): string {
  const m = mail && new RegExp(`https?://[^\\s]+${path.replace(/[?]/g, "\\?")}[^\\s]*`).exec(mail.text);
  if (!m) throw new Error(`no ${path} link in mail: ${mail?.text}`);
  return m[0];
}

export function tokenIn(mail: SentMail | undefined, path: string): string {
  const url = new URL(linkIn(mail, path));
  const token = url.searchParams.get("token");
  if (!token) throw new Error("link has no token");
  return token;
}

export const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

export const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

type Sqlite = ReturnType<typeof testApp>["sqlite"];
let letterSeq = 0;
/** A letter row as the letters module writes it (inserted directly: these tests are about reporting). */
export function insertLetter(
  sqlite: Sqlite,
  over: Partial<{
    id: string;
    email: string;
    status: string;
    createdAt: number;
    code: string;
    body: string;
  }> = {},
) {
  const id = over.id ?? `letter-${++letterSeq}`;
  const createdAt = over.createdAt ?? Date.parse("2026-11-20T10:00:00Z");
  const status = over.status ?? "sent";
  const email = over.email ?? "ada@example.org";
  sqlite
    .prepare(
      `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name,
        status, asks, subject, body, supporter_name, supporter_email, supporter_email_key, supporter_address,
        supporter_postcode, idempotency_key, created_at, confirmed_at, sent_at)
       values (?, 'manifesto-for-babies', ?, 'mp', 4000, 'MP Aldershot', ?, '["a1"]', 'Babies', ?, 'Ada Supporter', ?, ?,
        '1 High St\nAldershot', 'GU11 1AA', ?, ?, ?, ?)`,
    )
    .run(
      id,
      over.code ?? "E14001063",
      status,
      over.body ?? "Dear MP, my story about my baby.",
      email,
      emailKey(email),
      `idem-${id}`,
      createdAt,
      ["awaiting_confirmation", "expired"].includes(status) ? null : createdAt + 60_000,
      status === "sent" ? createdAt + 120_000 : null,
    );
  return id;
}
