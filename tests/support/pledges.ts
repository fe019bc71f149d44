/**
 * Helpers for the pledge, dashboard and privacy tests: a few real-looking seats, a capturing
 * mailer at the process edge, and link extraction from captured mail.
 */
import type { Deps, MailMessage } from "../../src/deps";
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

export function pledgeTestApp(env: Record<string, string> = {}) {
  const t = testApp(env);
  const sent: SentMail[] = [];
  const mailer: Deps["mailer"] = {
    async send(m) {
      sent.push(m);
      return { messageId: m.messageId };
    },
  };
  (t.deps as { mailer: Deps["mailer"] }).mailer = mailer;
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
  return { ...t, sent };
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
  sqlite
    .prepare(
      `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name,
        status, asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
        idempotency_key, created_at, confirmed_at)
       values (?, 'manifesto-for-babies', ?, 'mp', 4000, 'MP Aldershot', ?, '["a1"]', 'Babies', ?, 'Ada Supporter', ?,
        '1 High St\nAldershot', 'GU11 1AA', ?, ?, ?)`,
    )
    .run(
      id,
      over.code ?? "E14001063",
      over.status ?? "sent",
      over.body ?? "Dear MP, my story about my baby.",
      over.email ?? "ada@example.org",
      `idem-${id}`,
      over.createdAt ?? Date.parse("2026-11-20T10:00:00Z"),
      ["awaiting_confirmation", "expired"].includes(over.status ?? "sent")
        ? null
        : (over.createdAt ?? Date.parse("2026-11-20T10:00:00Z")) + 60_000,
    );
  return id;
}
