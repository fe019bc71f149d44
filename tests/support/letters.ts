/**
 * Helpers for letter tests: a seeded test seat, a valid submission, and the confirm link pulled
 * out of the confirmation email exactly as a supporter would click it.
 */
import { and, eq } from "drizzle-orm";
import { outbox } from "../../src/db/schema.letters";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus, testApp } from "./deps";

export const TEST_POSTCODE = "ZZ9 9ZZ";

export function letterInput(over: Record<string, unknown> = {}) {
  return {
    recipient: { kind: "mp" },
    asks: ["prevention", "workforce"],
    story: "My daughter was born in March and our health visitor was a lifeline.",
    supporter: {
      name: "Jane Doe",
      email: "jane@example.org",
      address: { line1: "1 Test Street", town: "Testtown", postcode: TEST_POSTCODE },
    },
    ...over,
  };
}

export async function lettersApp(env: Record<string, string> = {}) {
  const t = testApp({ LETTER_LIMIT_PER_EMAIL_DAY: "50", LETTER_LIMIT_PER_IP_HOUR: "500", ...env });
  await ensureTestSeat(t.deps);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const submit = async (input: unknown = letterInput(), headers: Record<string, string> = {}) =>
    (await expectStatus(await post("/api/letters", input, headers), 201)) as { id: string; status: string };
  /** The token from the letter's confirmation email, as the supporter would receive it. */
  const confirmToken = async (letterId: string, kind: "confirm" | "reminder" = "confirm") => {
    const [row] = await t.deps.db
      .select({ body: outbox.bodyText })
      .from(outbox)
      .where(and(eq(outbox.letterId, letterId), eq(outbox.kind, kind)));
    const m = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(row?.body ?? "");
    if (!m?.[1]) throw new Error(`no ${kind} link for letter ${letterId}`);
    return m[1];
  };
  const confirm = (token: string) => post("/api/letters/confirm", { token });
  return { ...t, post, submit, confirmToken, confirm };
}
