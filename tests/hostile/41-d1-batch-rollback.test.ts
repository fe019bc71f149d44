/**
 * HOSTILE 41: on Workers, `deps.atomic` is one D1 batch. When a later statement of a batch
 * violates a constraint, the earlier ones are rolled back too: no letter without its outbox rows.
 * Real D1 (Miniflare's, the engine `wrangler dev` and the Workers tests use), the real migrations,
 * and statements built by the app's own code through drizzle's D1 driver.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { drizzle } from "drizzle-orm/d1";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import * as schema from "../../src/db/schema";
import { letters, outbox } from "../../src/db/schema";
import { describeError } from "../../src/http/problem";
import { insertOutbox } from "../../src/modules/delivery/delivery.machine";
import { outboxRow } from "../../src/modules/delivery/delivery.outbox";
import { testClock } from "../support/deps";

let mf: Miniflare;
let d1: Awaited<ReturnType<Miniflare["getD1Database"]>>;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response('') } }",
    d1Databases: ["DB"],
    compatibilityDate: "2026-04-26",
  });
  d1 = await mf.getD1Database("DB");
  const dir = resolve(ROOT_DIR, "src/db/migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort())
    for (const statement of readFileSync(resolve(dir, file), "utf8").split("--> statement-breakpoint"))
      if (statement.replace(/--.*$/gm, "").trim()) await d1.prepare(statement).run();
  await d1
    .prepare(
      "insert into constituencies (ons_code, name, nation, region_code, region_name) values ('E14001063', 'Aldershot', 'England', 'E12000008', 'South East')",
    )
    .run();
}, 60_000);
afterAll(() => mf?.dispose());

const clock = testClock();
const config = { MAIL_FROM: "campaign@example.org" } as never;
const ids = { uuid: () => crypto.randomUUID() };

function letter(id: string, key = `idem-${id}`) {
  const now = clock.now();
  return {
    id,
    campaignId: "manifesto-for-babies",
    constituencyCode: "E14001063",
    recipientKind: "mp" as const,
    recipientName: "Alex Baker",
    status: "awaiting_confirmation" as const,
    asks: ["prevention"],
    subject: "Babies",
    body: "Dear MP",
    supporterName: "Jane",
    supporterEmail: "jane@example.org",
    supporterEmailKey: "jane@example.org",
    supporterAddress: "1 Road\nGU14 7JU",
    supporterPostcode: "GU14 7JU",
    idempotencyKey: key,
    createdAt: now,
  };
}
const mailFor = (letterId: string) =>
  outboxRow(
    { config, clock, ids },
    {
      kind: "letter",
      letterId,
      state: "awaiting_confirmation",
      toName: "Alex Baker",
      toEmail: "mp@parliament.example.net",
      reflectTo: "jane@example.org",
      fromName: "Jane",
      subject: "Babies",
      bodyText: "Dear MP",
    },
  );

describe("41: a D1 batch whose second statement violates a constraint", () => {
  it("rolls back the first too (UNIQUE, CHECK and FOREIGN KEY), and a good batch commits", async () => {
    const db = drizzle(d1 as never, { schema });
    const count = async () => ({
      letters: (await d1.prepare("select count(*) n from letters").first<{ n: number }>())?.n,
      outbox: (await d1.prepare("select count(*) n from outbox").first<{ n: number }>())?.n,
    });
    // A good batch: the letter and its mail.
    const first = mailFor("l1");
    await db.batch([db.insert(letters).values(letter("l1")), insertOutbox({ db } as never, [first])]);
    expect(await count()).toEqual({ letters: 1, outbox: 1 });

    const bad: [string, () => unknown][] = [
      // The mail's Message-ID is already used (UNIQUE).
      ["unique", () => insertOutbox({ db } as never, [{ ...mailFor("l2"), messageId: first.messageId }])],
      // A state outside the set (CHECK), written directly.
      ["check", () => db.insert(outbox).values({ ...mailFor("l2"), state: "bogus" as never })],
      // Mail for a letter that does not exist (FOREIGN KEY).
      ["foreign key", () => insertOutbox({ db } as never, [mailFor("no-such-letter")])],
    ];
    for (const [what, second] of bad) {
      await expect(
        db.batch([db.insert(letters).values(letter("l2")), second() as never]),
        what,
      ).rejects.toThrow(/constraint/i);
      expect(await count(), what).toEqual({ letters: 1, outbox: 1 });
    }
  });

  it("a failed D1 statement is logged without its bound parameters (no supporter's address in the log)", async () => {
    const db = drizzle(d1 as never, { schema });
    const secret = "someone.private@example.org";
    const error = await db
      .insert(letters)
      .values({ ...letter("l1"), supporterEmail: secret })
      .run()
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain(secret);
    const logged = describeError(error);
    expect(logged).toContain("parameters withheld");
    expect(logged).not.toContain(secret);
  });
});
