/**
 * The Node server's members sync timer (src/adapters/node/member-sync.ts), with real timers and
 * a stand-in Members API: it runs when due, counts from the last attempt in the database, and
 * MEMBERS_SYNC_INTERVAL_HOURS=0 turns it off.
 */
import { resolve } from "node:path";
import { desc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { startMemberSync } from "../../src/adapters/node/member-sync";
import { seed } from "../../src/adapters/node/seed";
import { memberSyncs } from "../../src/db/schema";
import { testDeps } from "../support/deps";
import { devolvedApiServer } from "../support/devolved-api";
import { membersApiServer } from "../support/members-api";
import { mswServer, useMsw } from "../support/msw";

useMsw();

async function server(env: Record<string, string> = {}) {
  const t = testDeps({ MEMBERS_SYNC_CONTACTS: "0", MEMBERS_SYNC_BODIES: "uk_parliament", ...env });
  await seed(t.deps, resolve(ROOT_DIR, "data"));
  const api = membersApiServer();
  mswServer.use(...api.handlers);
  const syncs = () =>
    t.deps.db
      .select({ trigger: memberSyncs.trigger, status: memberSyncs.status, source: memberSyncs.source })
      .from(memberSyncs)
      .where(eq(memberSyncs.body, "uk_parliament"))
      .orderBy(desc(memberSyncs.finishedAt));
  return { ...t, api, syncs };
}

describe("members sync timer", () => {
  it("syncs soon after start-up when the Members API was never asked, then waits a full interval", async () => {
    const t = await server();
    t.api.control.roster = t.api.control.roster.filter((r) => r.constituency !== "Clacton");
    const timer = startMemberSync(t.deps, { firstDelayMs: 20 });
    try {
      await vi.waitFor(
        async () => expect((await t.syncs())[0]).toMatchObject({ trigger: "schedule", status: "applied" }),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      const searches = t.api.control.calls.length;
      // The next run is a day away (MEMBERS_SYNC_INTERVAL_HOURS=24): nothing more is asked.
      await new Promise((r) => setTimeout(r, 200));
      expect(t.api.control.calls.length).toBe(searches);
    } finally {
      await timer.stop();
    }
  });

  it("counts from the last attempt recorded, so a restart doesn't sync again early", async () => {
    const t = await server();
    let timer = startMemberSync(t.deps, { firstDelayMs: 10 });
    await vi.waitFor(async () => expect(await t.syncs()).toHaveLength(2), { timeout: 10_000, interval: 50 });
    await timer.stop();
    t.api.control.calls.length = 0;
    // A "restart" an hour later: the next sync is 23 hours away.
    t.clock.advance(60 * 60 * 1000);
    timer = startMemberSync(t.deps, { firstDelayMs: 10 });
    await new Promise((r) => setTimeout(r, 300));
    await timer.stop();
    expect(t.api.control.calls).toEqual([]);
  });

  it("syncs every parliament in MEMBERS_SYNC_BODIES, each from its own source, each on its own clock", async () => {
    const t = await server({ MEMBERS_SYNC_BODIES: "uk_parliament,scottish_parliament,senedd,ni_assembly" });
    const devolved = devolvedApiServer();
    mswServer.use(...devolved.handlers);
    const scheduled = () =>
      t.deps.db
        .select({ body: memberSyncs.body, status: memberSyncs.status })
        .from(memberSyncs)
        .where(eq(memberSyncs.trigger, "schedule"));
    const timer = startMemberSync(t.deps, { firstDelayMs: 20 });
    try {
      await vi.waitFor(async () => expect(await scheduled()).toHaveLength(4), {
        timeout: 15_000,
        interval: 50,
      });
    } finally {
      await timer.stop();
    }
    expect((await scheduled()).map((s) => `${s.body} ${s.status}`).sort()).toEqual([
      "ni_assembly applied",
      "scottish_parliament applied",
      "senedd applied",
      "uk_parliament applied",
    ]);
    const asked = devolved.control.calls.join(" ");
    expect(asked).toContain("/api/members");
    expect(asked).toContain("GetCouncillorsByWard");
    expect(asked).toContain("GetAllCurrentMembers_JSON");
    // Half a day later (a restart) nothing is due: no parliament is asked again.
    devolved.control.calls.length = 0;
    t.clock.advance(12 * 60 * 60 * 1000);
    const again = startMemberSync(t.deps, { firstDelayMs: 10 });
    await new Promise((r) => setTimeout(r, 300));
    await again.stop();
    expect(devolved.control.calls).toEqual([]);
  });

  it("does nothing with MEMBERS_SYNC_INTERVAL_HOURS=0", async () => {
    const t = await server({ MEMBERS_SYNC_INTERVAL_HOURS: "0" });
    const timer = startMemberSync(t.deps, { firstDelayMs: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await timer.stop();
    expect(t.api.control.calls).toEqual([]);
    expect((await t.syncs()).map((s) => s.trigger)).toEqual(["seed"]);
  });
});
