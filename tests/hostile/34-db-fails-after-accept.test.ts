/**
 * HOSTILE 34: the relay accepted the message, then the database write that records it fails (a
 * fault injected in SQLite itself, for as long as it lasts): the message is never sent again; it
 * is recorded as sent as soon as the database takes writes, and the lease running out in between
 * doesn't bring it back.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { confirmedLetters, lettersAt, withRealSmtp } from "./support";

describe("34: a database write fails after the relay accepted", () => {
  it("no second copy, whatever the lease does; recorded once the database works", async () => {
    const t = await withRealSmtp({}, { OUTBOX_LEASE_SECONDS: "5" });
    const [id] = await confirmedLetters(t, 1);
    // Every write that would mark a row sent fails, as on a disk that has turned read-only.
    t.sqlite.exec(`
      create table fault (on_ integer not null);
      insert into fault values (1);
      create trigger fail_sent before update of state on outbox
        when new.state = 'sent' and (select on_ from fault) = 1
        begin select raise(abort, 'disk I/O error'); end;`);
    await drainOutbox(t.deps, { maxPasses: 3 });
    expect(lettersAt(t.sink)).toHaveLength(1);
    const row = () =>
      t.sqlite.prepare("select state, attempts from outbox where letter_id = ? and kind = 'letter'").get(id);
    expect(row()).toMatchObject({ state: "sending" });
    // The lease lapses while the fault lasts: still not sent again.
    t.clock.advance(60_000);
    await drainOutbox(t.deps, { maxPasses: 3 });
    expect(lettersAt(t.sink)).toHaveLength(1);
    // The database takes writes again: the acceptance is recorded, and nothing more goes.
    t.sqlite.exec("update fault set on_ = 0");
    t.clock.advance(60_000);
    await drainOutbox(t.deps);
    expect(row()).toEqual({ state: "sent", attempts: 1 });
    t.clock.advance(6 * 60 * 60 * 1000);
    await drainOutbox(t.deps);
    expect(lettersAt(t.sink)).toHaveLength(1);
    expect(t.sqlite.prepare("select status from letters where id = ?").get(id)).toEqual({ status: "sent" });
  });
});
