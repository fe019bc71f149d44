/**
 * No letter to someone who has left. When a members sync (or import) changes who holds a seat,
 * letters that have not gone yet follow the change:
 *
 * - A letter to an MP who is no longer the seat's MP (by-election, resignation, death, recall,
 *   a move to another seat) is stopped: its outbox row and the letter become `cancelled`, a
 *   `letter_stops` row says why, and the supporter gets an email naming the new MP with a link to
 *   write to them (or saying the seat is vacant).
 * - A letter to an MP whose address changed (same person) is sent to the new address.
 *
 * Rules:
 * - "Not gone yet" is the outbox states from which delivery may still cancel a letter:
 *   awaiting_confirmation, held, queued and failed (STOPPABLE_STATES). A row in `sending` is
 *   already with the mail relay and cannot be called back; if that attempt fails it returns to
 *   `failed`, and the next sync stops it, because the stop is a sweep over every pending letter
 *   (not a list of this sync's departures).
 * - The stop statements run in the same deps.atomic write as the members change that causes
 *   them (members.sync.ts), after it: no moment exists where the roster says someone has left
 *   but their letters can still be claimed. The email to the supporter needs a rendered
 *   template, so it follows in a second step (`notifyStoppedLetters`), keyed by
 *   `letter_stops.notified_at`; a crash in between is picked up by the next sync.
 * - Every state change goes through the delivery state machine (delivery.machine.ts): the stop
 *   is its `cancel` event (reason: the sync's marker) on the letter rows, which also derives the
 *   letters' status and cancels their unsent reminders and follow-ups in the same write; the
 *   address change is its `readdress` event on unsent rows.
 */
import { and, eq, inArray, isNull, notExists, or, type SQL, sql } from "drizzle-orm";
import {
  constituencies,
  type DevolvedBody,
  devolvedAreas,
  devolvedMembers,
  letterStops,
  letters,
  members,
  outbox,
} from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { sha256Hex } from "../../lib/tokens";
import { announceInserted, insertOutbox, transitionStatements, UNSENT } from "../delivery/delivery.machine";
import { messageIdFor, outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO } from "../devolved/devolved.bodies";
import { renderText } from "./letters.templates";

/** Outbox states of a letter row that has not reached the relay (the machine's UNSENT). */
export const STOPPABLE_STATES = UNSENT;
/** Letter statuses that go with those outbox states. */
export const PENDING_LETTER_STATUSES = ["awaiting_confirmation", "confirmed", "held"] as const;

/** Supporter emails queued per notify pass; the rest wait for the next pass. */
const NOTIFY_BATCH = 500;

/** The marker a stop leaves on the outbox row: it scopes the follow-on statements to this sync. */
export const stopMarker = (syncId: string) =>
  `not sent: recipient is no longer the MP (members sync ${syncId})`;

/**
 * Pending letters to an MP who is not (any more) the sitting MP of the letter's seat. A letter
 * names its MP by Parliament id; letters and members rows from data without ids (the old
 * election-day snapshot) are matched by name.
 */
function lettersToFormerMembers(deps: Pick<Deps, "db">) {
  const stillTheirMp = deps.db
    .select({ one: sql`1` })
    .from(members)
    .where(
      and(
        eq(members.constituencyCode, letters.constituencyCode),
        eq(members.status, "sitting"),
        or(
          eq(members.parliamentId, letters.recipientPersonId),
          and(
            or(isNull(members.parliamentId), isNull(letters.recipientPersonId)),
            eq(members.name, letters.recipientName),
          ),
        ),
      ),
    );
  return deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(
      and(
        eq(letters.recipientKind, "mp"),
        inArray(letters.status, [...PENDING_LETTER_STATUSES]),
        notExists(stillTheirMp),
      ),
    );
}

/**
 * Statements that stop every pending letter whose MP has left, for deps.atomic after the members
 * rows are written. Idempotent: a second run finds nothing pending for them.
 */
export function stopLettersToFormerMembers(
  deps: Pick<Deps, "db" | "config" | "clock">,
  input: { syncId: string; now: number },
): Statement[] {
  const marker = stopMarker(input.syncId);
  // The machine's `cancel` on the letter rows of letters whose recipient is no longer their
  // seat's MP: {awaiting_confirmation, held, queued, failed} -> cancelled (with the letter's
  // status, in the same write). `sending` is not touched: that attempt is with the relay already.
  const stop = transitionStatements(
    deps,
    "cancel",
    {
      where: and(eq(outbox.kind, "letter"), inArray(outbox.letterId, lettersToFormerMembers(deps))) as SQL,
    },
    { guard: inArray(outbox.state, [...STOPPABLE_STATES]), set: { cancelReason: marker } },
  );
  return [
    ...stop.statements,
    // Why, and who holds the seat now: read by the supporter's email and the letter's status.
    deps.db
      .insert(letterStops)
      .select(
        deps.db
          .select({
            letterId: sql<string>`${outbox.letterId}`.as("letter_id"),
            syncId: sql<string>`${input.syncId}`.as("sync_id"),
            reason:
              sql<"member_left">`case when ${members.status} = 'sitting' then 'member_left' else 'seat_vacant' end`.as(
                "reason",
              ),
            newMemberName: sql<string | null>`${members.name}`.as("new_member_name"),
            at: sql<number>`${input.now}`.as("at"),
            notifiedAt: sql<number | null>`null`.as("notified_at"),
          })
          .from(outbox)
          .innerJoin(letters, eq(letters.id, outbox.letterId))
          .leftJoin(members, eq(members.constituencyCode, letters.constituencyCode))
          .where(
            and(eq(outbox.kind, "letter"), eq(outbox.state, "cancelled"), eq(outbox.cancelReason, marker)),
          ),
      )
      .onConflictDoNothing(),
  ];
}

/**
 * The MP kept their seat but their address changed: letters not yet with the relay go to the
 * new address (the machine's `readdress` event on unsent rows; not a state change).
 */
export function redirectLettersToNewAddress(
  deps: Pick<Deps, "db" | "config" | "clock">,
  input: { parliamentId: number; from: string; to: string; now: number },
): Statement {
  const { statements } = transitionStatements(
    deps,
    "readdress",
    {
      where: and(
        eq(outbox.kind, "letter"),
        eq(outbox.toEmail, input.from),
        inArray(
          outbox.letterId,
          deps.db
            .select({ id: letters.id })
            .from(letters)
            .where(and(eq(letters.recipientKind, "mp"), eq(letters.recipientPersonId, input.parliamentId))),
        ),
      ) as SQL,
    },
    { set: { toEmail: input.to } },
  );
  return statements[0] as Statement;
}

/**
 * The devolved twin of `stopLettersToFormerMembers`: pending letters to an MSP, MS or MLA of
 * `body` who no longer sits for the letter's area (a letter names the member by our
 * devolved_members id, which stays the same while they sit). Same event (the machine's `cancel`
 * with the sync's marker), same single write as the members change that causes them.
 */
export function stopLettersToFormerDevolvedMembers(
  deps: Pick<Deps, "db" | "config" | "clock">,
  input: { body: DevolvedBody; syncId: string; now: number },
): Statement[] {
  const marker = stopMarker(input.syncId);
  const kind = BODY_INFO[input.body].repKind as "msp" | "ms" | "mla";
  const stillTheirMember = deps.db
    .select({ one: sql`1` })
    .from(devolvedMembers)
    .where(
      and(eq(devolvedMembers.id, letters.recipientPersonId), eq(devolvedMembers.areaCode, letters.areaCode)),
    );
  const gone = deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(
      and(
        eq(letters.recipientKind, kind),
        inArray(letters.status, [...PENDING_LETTER_STATUSES]),
        notExists(stillTheirMember),
      ),
    );
  const stop = transitionStatements(
    deps,
    "cancel",
    { where: and(eq(outbox.kind, "letter"), inArray(outbox.letterId, gone)) as SQL },
    { guard: inArray(outbox.state, [...STOPPABLE_STATES]), set: { cancelReason: marker } },
  );
  // Who sits for the area now: named in the supporter's email only where one member holds it.
  const sole = sql<
    string | null
  >`(select case when count(*) = 1 and ${devolvedAreas.seats} = 1 then max(${devolvedMembers.name}) end from ${devolvedMembers} where ${devolvedMembers.areaCode} = ${letters.areaCode})`;
  const empty = sql<boolean>`not exists (select 1 from ${devolvedMembers} where ${devolvedMembers.areaCode} = ${letters.areaCode})`;
  return [
    ...stop.statements,
    deps.db
      .insert(letterStops)
      .select(
        deps.db
          .select({
            letterId: sql<string>`${letters.id}`.as("letter_id"),
            syncId: sql<string>`${input.syncId}`.as("sync_id"),
            reason: sql<"member_left">`case when ${empty} then 'seat_vacant' else 'member_left' end`.as(
              "reason",
            ),
            newMemberName: sole.as("new_member_name"),
            at: sql<number>`${input.now}`.as("at"),
            notifiedAt: sql<number | null>`null`.as("notified_at"),
          })
          .from(outbox)
          .innerJoin(letters, eq(letters.id, outbox.letterId))
          .innerJoin(devolvedAreas, eq(devolvedAreas.code, letters.areaCode))
          .where(
            and(
              eq(outbox.kind, "letter"),
              eq(outbox.state, "cancelled"),
              eq(outbox.cancelReason, marker),
              eq(letters.recipientKind, kind),
            ),
          ),
      )
      .onConflictDoNothing(),
  ];
}

/** How many letters `redirectLettersToNewAddress` would move (for the sync's report). */
export async function countLettersToAddress(
  deps: Pick<Deps, "db">,
  input: { parliamentId: number; from: string },
): Promise<number> {
  const [row] = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(outbox)
    .innerJoin(letters, eq(letters.id, outbox.letterId))
    .where(
      and(
        eq(outbox.kind, "letter"),
        inArray(outbox.state, [...STOPPABLE_STATES]),
        eq(outbox.toEmail, input.from),
        eq(letters.recipientKind, "mp"),
        eq(letters.recipientPersonId, input.parliamentId),
      ),
    );
  return Number(row?.n ?? 0);
}

/** A fixed outbox id per stopped letter (UUID-shaped), so its email can be queued only once. */
async function noticeId(letterId: string): Promise<string> {
  const h = await sha256Hex(`letter-stopped|${letterId}`);
  const variant = ((Number.parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Queue the email to each supporter whose letter was stopped and who has not been told yet.
 * Each is one atomic write: mark told (conditional on not told) + the outbox row with a fixed
 * id (ON CONFLICT DO NOTHING), so two passes at once still queue one email.
 */
export async function notifyStoppedLetters(deps: Deps): Promise<{ notified: number }> {
  const rows = await deps.db
    .select({
      letterId: letterStops.letterId,
      newMemberName: letterStops.newMemberName,
      supporterName: letters.supporterName,
      supporterEmail: letters.supporterEmail,
      flags: letters.flags,
      supporterPostcode: letters.supporterPostcode,
      recipientName: letters.recipientName,
      recipientKind: letters.recipientKind,
      seatCode: letters.constituencyCode,
      seatName: constituencies.name,
      areaName: devolvedAreas.name,
      areaSeats: devolvedAreas.seats,
    })
    .from(letterStops)
    .innerJoin(letters, eq(letters.id, letterStops.letterId))
    .innerJoin(constituencies, eq(constituencies.onsCode, letters.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, letters.areaCode))
    .where(isNull(letterStops.notifiedAt))
    .limit(NOTIFY_BATCH);
  const campaign = deps.config.campaign;
  let notified = 0;
  for (const r of rows) {
    const now = deps.clock.now();
    const markTold = deps.db
      .update(letterStops)
      .set({ notifiedAt: now })
      .where(and(eq(letterStops.letterId, r.letterId), isNull(letterStops.notifiedAt)));
    // An address erased or anonymised since (privacy) is not written to, nor a representative's own
    // address typed as the supporter's: just record that nobody is left to tell.
    if (r.supporterEmail.endsWith(".invalid") || (r.flags ?? []).includes("representative_email")) {
      await deps.atomic([markTold]);
      continue;
    }
    const q = new URLSearchParams({ postcode: r.supporterPostcode, seat: r.seatCode });
    const devolved = r.recipientKind === "msp" || r.recipientKind === "ms" || r.recipientKind === "mla";
    const role = devolved ? r.recipientKind.toUpperCase() : "MP";
    const nextUrl =
      r.newMemberName && !devolved
        ? `${deps.config.PUBLIC_URL}/write?${q}&to=mp`
        : `${deps.config.PUBLIC_URL}/find?${q}`;
    const text = renderText(deps, "emails/letter-stopped.txt", {
      supporter: { name: r.supporterName },
      recipient: { name: r.recipientName },
      role,
      multiMember: devolved && (r.areaSeats ?? 1) > 1,
      constituency: { name: devolved ? (r.areaName ?? r.seatName) : r.seatName },
      campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
      successor: r.newMemberName ? { name: r.newMemberName } : null,
      nextUrl,
    });
    const id = await noticeId(r.letterId);
    const row = {
      ...outboxRow(deps, {
        // Service mail: not part of the letter's own sequence (confirm, sent, follow-up), and
        // erased with the supporter's other service mail.
        kind: "service",
        letterId: r.letterId,
        state: "queued",
        toName: r.supporterName,
        toEmail: r.supporterEmail,
        reflectTo: r.supporterEmail,
        fromName: campaign.hashtag,
        subject: `Your letter to ${r.recipientName} was not sent: they are no longer your ${role}`,
        bodyText: text,
      }),
      id,
      messageId: messageIdFor(deps, id),
    };
    await deps.atomic([markTold, insertOutbox(deps, [row]).onConflictDoNothing()]);
    await announceInserted(deps, [row]);
    notified++;
  }
  if (notified) deps.logger.info("supporters told their letter was stopped", { notified });
  return { notified };
}
