/**
 * HOSTILE 26: someone who had their data erased and signs up again (under any spelling of the
 * same mailbox) stays on the suppression list: they get only the mail they ask for anew (the
 * confirmation of what they just did, campaign updates only if they tick the box again).
 */
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { confirmPledge } from "../../src/modules/pledges/pledges.service";
import { isSuppressed, processPrivacyRequests } from "../../src/modules/privacy/privacy.service";
import { expectStatus } from "../support/deps";
import { type HostileApp, hostileApp, pledgeForm, signedIn } from "./support";

const DAY = 86_400_000;

async function pledged(t: HostileApp, email: string, updates: boolean) {
  await expectStatus(
    await t.post("/api/pledges", {
      ...pledgeForm({ email }),
      ...(updates ? { updatesConsent: "updates-2026-11" } : {}),
    }),
    202,
  );
  const { id } = t.sqlite
    .prepare("select public_id id from supporter_pledges where email = ?")
    .get(email) as { id: string };
  const token = await signToken(t.deps.config, {
    purpose: "pledge.confirm",
    subject: id,
    expiresAt: t.clock.now() + DAY,
  });
  await confirmPledge(t.deps, { token });
}

async function erase(t: HostileApp, email: string) {
  await expectStatus(await t.form("/privacy/request", { email, kind: "erase" }), 202);
  await processPrivacyRequests(t.deps);
  const [row] = t.sqlite
    .prepare("select body_text b from outbox where body_text like '%/privacy/erase?token=%'")
    .all() as {
    b: string;
  }[];
  const token = /\/privacy\/erase\?token=([^\s]+)/.exec(row?.b ?? "")?.[1] ?? "";
  expect(await (await t.form("/privacy/erase", { token: decodeURIComponent(token) })).text()).toContain(
    "Your data is erased",
  );
}

const mayEmail = async (lead: Awaited<ReturnType<typeof signedIn>>, email: string) => {
  const csv = (await (await lead.get("/admin/export/pledges.csv")).text()) as string;
  return csv
    .split("\n")
    .find((l) => l.includes(email))
    ?.split(",")
    .pop();
};

describe("26: an erased supporter signs up again", () => {
  it("under another spelling of the mailbox, without ticking updates: still suppressed, no updates", async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    const lead = await signedIn(t);
    await pledged(t, "Alice.Smith@gmail.com", true);
    expect(await mayEmail(lead, "Alice.Smith@gmail.com")).toBe("yes");
    await erase(t, "alice.smith@gmail.com");
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 0 });
    t.clock.advance(DAY);
    await pledged(t, "alicesmith+campaign@gmail.com", false);
    expect(await isSuppressed(t.deps, "ALICE.SMITH@googlemail.com")).toBe(true);
    expect(await mayEmail(lead, "alicesmith+campaign@gmail.com")).toBe("no");
  });

  it("ticking the updates box anew after the erasure is a new consent: updates may go", async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    const lead = await signedIn(t);
    await pledged(t, "bob@example.org", true);
    await erase(t, "bob@example.org");
    t.clock.advance(DAY);
    await pledged(t, "Bob@Example.org", true);
    expect(await isSuppressed(t.deps, "bob@example.org")).toBe(true);
    expect(await mayEmail(lead, "Bob@Example.org")).toBe("yes");
  });
});
