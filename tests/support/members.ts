/**
 * A database seeded from data/ exactly as `npm start` seeds it, a stand-in Members API in the
 * real shapes (msw), and a counting mail transport: the setting of the members sync and letter
 * re-routing tests. Call `useMsw()` in the test file.
 */
import { resolve } from "node:path";
import { eq } from "drizzle-orm";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { seed } from "../../src/adapters/node/seed";
import { memberChanges, members } from "../../src/db/schema";
import type { DevolvedBody } from "../../src/db/schema.devolved";
import { createUser } from "../../src/modules/admin/admin.auth";
import { syncDevolved } from "../../src/modules/devolved/devolved.sync";
import { syncMembers } from "../../src/modules/members/members.sync";
import { ADMIN, cookieFrom, signInForm } from "./admin";
import { expectStatus, testApp } from "./deps";
import { devolvedApiServer } from "./devolved-api";
import { countingMailer, LIVE_TO_FAKE_TRANSPORT } from "./mail";
import { membersApiServer, type RosterEntry } from "./members-api";
import { mswServer as server } from "./msw";

const DATA = resolve(ROOT_DIR, "data");

/** A by-election winner for Leeds Central and Headingley (LS1 1AZ), replacing Alex Sobel (4658). */
export const WINNER: Partial<RosterEntry> = {
  id: 9001,
  name: "Jo Newton",
  party: "Green Party",
  email: "jo.newton.mp@parliament.uk",
  since: "2026-11-19",
};

export async function seededApp(env: Record<string, string> = {}) {
  const t = testApp({
    ...LIVE_TO_FAKE_TRANSPORT,
    LETTER_LIMIT_PER_EMAIL_DAY: "50",
    LETTER_LIMIT_PER_IP_HOUR: "500",
    // A handful per run keeps the tests quick; new MPs are always read first.
    MEMBERS_SYNC_CONTACTS: "10",
    ...env,
  });
  await seed(t.deps, DATA);
  const mail = countingMailer();
  t.deps.mailer = mail.mailer;
  const api = membersApiServer();
  const devolved = devolvedApiServer();
  server.use(...api.handlers, ...devolved.handlers);
  const sync = (opts: { force?: boolean; allContacts?: boolean } = {}) =>
    syncMembers(t.deps, { trigger: "cli", ...opts });
  const syncBody = (body: DevolvedBody, opts: { force?: boolean } = {}) =>
    syncDevolved(t.deps, { body, trigger: "cli", ...opts });
  const memberOf = async (code: string) =>
    (await t.deps.db.select().from(members).where(eq(members.constituencyCode, code)))[0];
  const changes = () =>
    t.deps.db
      .select({
        code: memberChanges.constituencyCode,
        kind: memberChanges.kind,
        parliamentId: memberChanges.parliamentId,
        memberName: memberChanges.memberName,
        before: memberChanges.before,
        after: memberChanges.after,
        effectiveOn: memberChanges.effectiveOn,
        syncId: memberChanges.syncId,
      })
      .from(memberChanges)
      .orderBy(memberChanges.id);
  const lookup = async (postcode: string, status = 200) =>
    (await expectStatus(await t.request(`/api/lookup?postcode=${encodeURIComponent(postcode)}`), status)) as {
      seat: string;
      mp: { name: string; parliamentId: number; party: string; contactable: boolean } | null;
      notice?: { code: string };
      devolved: {
        status: string;
        source: string | null;
        constituency: { code: string; name: string } | null;
        region: { code: string; name: string } | null;
        members: {
          id: number;
          name: string;
          party: string | null;
          contactable: boolean;
          contactUrl: string | null;
          pledged: boolean;
        }[];
        regionalMembers: { id: number; name: string; contactable: boolean }[];
        choices: { code: string; name: string }[];
        notice?: { code: string; detail: string };
      } | null;
    };
  return { ...t, mail, api, devolved, sync, syncBody, memberOf, changes, lookup };
}

export async function signedIn(t: Awaited<ReturnType<typeof seededApp>>) {
  await createUser(t.deps, ADMIN);
  const res = await signInForm(t as never);
  const session = cookieFrom(res, "speakup_admin");
  if (!session) throw new Error("no session");
  return (path: string) => t.request(path, { headers: { cookie: `speakup_admin=${session}` } });
}
