/**
 * Partner contacts' accounts: a campaign lead invites an address for a partner; the emailed,
 * signed, expiring link lets its owner choose a password, which makes an account with role
 * `partner` for that partner. From then on they sign in exactly as leads do (admin.auth.ts: the
 * same form, progressive delay, argon2id through the password port, server-side sessions).
 *
 * Rules:
 * - The invitation mail goes through the outbox (a `service` row) in the same atomic write as the
 *   invitation, so "invited" always means a mail is queued.
 * - The link names the invitation (random id), never the address; it expires after
 *   PARTNER_INVITE_HOURS and works once: accepting is one conditional UPDATE (not yet accepted,
 *   not expired) and the account's INSERT ... SELECT from that row, in one atomic write. An
 *   address that already has an account (a lead's or another partner's) is refused, and nothing
 *   changes. Opening the link (GET, link scanners) changes nothing.
 * - A lead removes a contact by deleting the account: its sessions go with it (ON DELETE CASCADE).
 */
import { and, desc, eq, gte, inArray, isNull, or, sql } from "drizzle-orm";
import { adminUsers, partnerInvitations, partners } from "../../db/schema";
import type { Deps } from "../../deps";
import { AppError, isAppError } from "../../lib/errors";
import { signToken, verifyToken } from "../../lib/tokens";
import { insertOutbox } from "../delivery/delivery.machine";
import { serviceMailRow } from "../pledges/pledges.mail";
import { getPartner } from "../widget/widget.service";

const INVITE_PURPOSE = "partner.invite";

export async function inviteContact(
  deps: Deps,
  input: { partnerKey: string; email: string; invitedBy: { id: string; email: string } },
): Promise<{ id: string; expiresAt: number }> {
  const partner = await getPartner(deps, { key: input.partnerKey });
  if (!partner) throw new AppError("not_found", "No such partner.");
  const [existing] = await deps.db
    .select({ id: adminUsers.id })
    .from(adminUsers)
    .where(eq(adminUsers.email, input.email));
  if (existing)
    throw new AppError(
      "account_exists",
      "That address already has an account (a campaign lead's or a partner contact's). Each person signs in with an address of their own.",
    );
  const now = deps.clock.now();
  const id = deps.ids.uuid();
  const expiresAt = now + deps.config.PARTNER_INVITE_HOURS * 3_600_000;
  const token = await signToken(deps.config, { purpose: INVITE_PURPOSE, subject: id, expiresAt });
  const mail = serviceMailRow(deps, {
    to: { address: input.email },
    subject: `Your partner pages for ${partner.name}: #SpeakUpForBabies`,
    template: "emails/partner-invite.txt",
    data: {
      partnerName: partner.name,
      invitedBy: input.invitedBy.email,
      linkUrl: `${deps.config.PUBLIC_URL}/partner/invite?token=${encodeURIComponent(token)}`,
      ttlHours: deps.config.PARTNER_INVITE_HOURS,
    },
  });
  await deps.atomic([
    deps.db.insert(partnerInvitations).values({
      id,
      partnerKey: partner.key,
      email: input.email,
      invitedBy: input.invitedBy.id,
      createdAt: now,
      expiresAt,
    }),
    insertOutbox(deps, [mail]),
  ]);
  deps.logger.info("partner contact invited", { partner: partner.key });
  return { id, expiresAt };
}

/** The invitation a link names, if it can still be accepted (GET: changes nothing). */
export async function invitationFor(deps: Pick<Deps, "db" | "config" | "clock">, input: { token: string }) {
  const now = deps.clock.now();
  const { subject } = await verifyToken(deps.config, input.token, INVITE_PURPOSE, now);
  const [row] = await deps.db
    .select({
      id: partnerInvitations.id,
      email: partnerInvitations.email,
      partnerKey: partnerInvitations.partnerKey,
      partnerName: partners.name,
      acceptedAt: partnerInvitations.acceptedAt,
      expiresAt: partnerInvitations.expiresAt,
    })
    .from(partnerInvitations)
    .innerJoin(partners, eq(partners.key, partnerInvitations.partnerKey))
    .where(eq(partnerInvitations.id, subject));
  if (!row || row.acceptedAt !== null || row.expiresAt < now)
    throw new AppError(
      "invitation_unusable",
      "This invitation has already been used or has expired. If you already chose a password, sign in; otherwise ask the campaign team for a new invitation.",
    );
  return row;
}

/** Choose a password: the account is made, the invitation used up. */
export async function acceptInvitation(deps: Deps, input: { token: string; password: string }) {
  const invitation = await invitationFor(deps, input);
  const now = deps.clock.now();
  const passwordHash = await deps.passwords.hash(input.password);
  const userId = deps.ids.uuid();
  const used = and(eq(partnerInvitations.id, invitation.id), eq(partnerInvitations.acceptedAt, now));
  let changes: number[];
  try {
    changes = await deps.atomic([
      deps.db
        .update(partnerInvitations)
        .set({ acceptedAt: now })
        .where(
          and(
            eq(partnerInvitations.id, invitation.id),
            isNull(partnerInvitations.acceptedAt),
            gte(partnerInvitations.expiresAt, now),
          ),
        ),
      deps.db.insert(adminUsers).select(
        deps.db
          .select({
            id: sql`${userId}`.as("id"),
            email: partnerInvitations.email,
            passwordHash: sql`${passwordHash}`.as("password_hash"),
            role: sql`'partner'`.as("role"),
            partnerKey: partnerInvitations.partnerKey,
            createdAt: sql`${now}`.as("created_at"),
            lastSignInAt: sql`null`.as("last_sign_in_at"),
          })
          .from(partnerInvitations)
          .where(used),
      ),
    ]);
  } catch (e) {
    if (isAppError(e)) throw e;
    // The UNIQUE address: someone has an account with it already. The whole write is undone.
    const err = e as { message?: string; cause?: { message?: string } };
    if (/UNIQUE constraint failed: admin_users\.email/.test(`${err?.message} ${err?.cause?.message}`))
      throw new AppError("account_exists", "That address already has an account: sign in with it instead.");
    throw e;
  }
  if (!changes[1])
    throw new AppError("invitation_unusable", "This invitation has already been used or has expired.");
  deps.logger.info("partner contact joined", { partner: invitation.partnerKey, userId });
  return { email: invitation.email, partnerKey: invitation.partnerKey };
}

/** A partner's contacts and pending invitations (for leads, and for the partner's own page). */
export async function contactsOf(deps: Pick<Deps, "db" | "clock">, input: { partnerKey: string }) {
  const accounts = await deps.db
    .select({
      id: adminUsers.id,
      email: adminUsers.email,
      createdAt: adminUsers.createdAt,
      lastSignInAt: adminUsers.lastSignInAt,
    })
    .from(adminUsers)
    .where(and(eq(adminUsers.role, "partner"), eq(adminUsers.partnerKey, input.partnerKey)))
    .orderBy(adminUsers.email);
  const invitations = await deps.db
    .select({
      id: partnerInvitations.id,
      email: partnerInvitations.email,
      createdAt: partnerInvitations.createdAt,
      expiresAt: partnerInvitations.expiresAt,
    })
    .from(partnerInvitations)
    .where(
      and(
        eq(partnerInvitations.partnerKey, input.partnerKey),
        isNull(partnerInvitations.acceptedAt),
        gte(partnerInvitations.expiresAt, deps.clock.now()),
      ),
    )
    .orderBy(desc(partnerInvitations.createdAt));
  return { accounts, invitations };
}

/** A lead removes a partner's contact (never a lead's account): the account and its sessions go. */
export async function removeContact(
  deps: Pick<Deps, "db" | "logger">,
  input: { partnerKey: string; userId: string },
) {
  const gone = await deps.db
    .delete(adminUsers)
    .where(
      and(
        eq(adminUsers.id, input.userId),
        eq(adminUsers.role, "partner"),
        eq(adminUsers.partnerKey, input.partnerKey),
      ),
    )
    .returning({ id: adminUsers.id });
  if (!gone.length) throw new AppError("not_found", "No such contact for this partner.");
  deps.logger.info("partner contact removed", { partner: input.partnerKey, userId: input.userId });
}

// --- privacy -----------------------------------------------------------------------------------

/** A partner contact's account and invitations, for their data export. */
export async function contactDataFor(deps: Pick<Deps, "db">, emails: readonly string[]) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const accounts = await deps.db
    .select({
      partner: adminUsers.partnerKey,
      createdAt: adminUsers.createdAt,
      lastSignInAt: adminUsers.lastSignInAt,
    })
    .from(adminUsers)
    .where(and(inArray(adminUsers.email, [...emails]), eq(adminUsers.role, "partner")));
  const invitations = await deps.db
    .select({
      partner: partnerInvitations.partnerKey,
      createdAt: partnerInvitations.createdAt,
      acceptedAt: partnerInvitations.acceptedAt,
    })
    .from(partnerInvitations)
    .where(inArray(partnerInvitations.email, [...emails]));
  return {
    accounts: accounts.map((a) => ({
      partner: a.partner,
      createdAt: iso(a.createdAt),
      lastSignInAt: iso(a.lastSignInAt),
    })),
    invitations: invitations.map((i) => ({
      partner: i.partner,
      createdAt: iso(i.createdAt),
      acceptedAt: iso(i.acceptedAt),
    })),
  };
}

/** Erasure: a partner contact's account (with its sessions) and invitations. Never a lead's. */
export const eraseContactStatements = (deps: Pick<Deps, "db">, emails: readonly string[]) => [
  deps.db
    .delete(adminUsers)
    .where(and(inArray(adminUsers.email, [...emails]), eq(adminUsers.role, "partner"))),
  deps.db.delete(partnerInvitations).where(inArray(partnerInvitations.email, [...emails])),
];

/** Retention: invitations once used or expired. */
export async function deleteSpentInvitations(deps: Pick<Deps, "db" | "clock">): Promise<number> {
  const gone = await deps.db
    .delete(partnerInvitations)
    .where(
      or(
        sql`${partnerInvitations.acceptedAt} is not null`,
        sql`${partnerInvitations.expiresAt} < ${deps.clock.now()}`,
      ),
    )
    .returning({ id: partnerInvitations.id });
  return gone.length;
}
