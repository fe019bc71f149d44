/**
 * What the privacy verbs (modules/privacy) do about partners, in one place: a person's consents
 * to hear from partners, and a partner contact's account and invitations.
 *
 * - Export lists both. Erasure deletes both, and stops and scrubs the partners' webhook events
 *   that carry the person's name and email. A lead's account is never touched by a supporter's
 *   erasure request (leads are managed with the CLI).
 * - Retention: consents (partners.consent.ts), spent invitations, and webhook deliveries after
 *   WEBHOOK_KEEP_DAYS.
 */
import { and, eq, inArray } from "drizzle-orm";
import { adminUsers, partnerConsents, partnerInvitations } from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { contactDataFor, deleteSpentInvitations, eraseContactStatements } from "./partners.accounts";
import {
  consentsFor,
  deleteConsentsStatement,
  eraseWebhookEventsStatements,
  expireConsents,
} from "./partners.consent";
import { deleteOldDeliveries } from "./partners.webhooks";

/**
 * `emails`: every address (lower-cased) the person's mailbox was typed as, so consents and an
 * account given under any spelling of it are found (privacy.service.ts addressesOf).
 */
export async function partnerDataHeldFor(
  deps: Pick<Deps, "db">,
  emails: readonly string[],
): Promise<boolean> {
  if (!emails.length) return false;
  const [consent] = await deps.db
    .select({ id: partnerConsents.id })
    .from(partnerConsents)
    .where(inArray(partnerConsents.emailNorm, [...emails]))
    .limit(1);
  if (consent) return true;
  const [account] = await deps.db
    .select({ id: adminUsers.id })
    .from(adminUsers)
    .where(and(inArray(adminUsers.email, [...emails]), eq(adminUsers.role, "partner")))
    .limit(1);
  if (account) return true;
  const [invite] = await deps.db
    .select({ id: partnerInvitations.id })
    .from(partnerInvitations)
    .where(inArray(partnerInvitations.email, [...emails]))
    .limit(1);
  return !!invite;
}

export async function partnerDataFor(deps: Pick<Deps, "db">, emails: readonly string[]) {
  return {
    partnerConsents: await consentsFor(deps, emails),
    partnerContact: await contactDataFor(deps, emails),
  };
}

export function erasePartnerDataStatements(
  deps: Pick<Deps, "db" | "config" | "clock">,
  emails: readonly string[],
): Statement[] {
  if (!emails.length) return [];
  return [
    ...eraseWebhookEventsStatements(deps, emails),
    deleteConsentsStatement(deps, emails),
    ...eraseContactStatements(deps, emails),
  ];
}

export type PartnerRetentionReport = {
  partnerConsentsDeleted: number;
  partnerInvitationsDeleted: number;
  webhookDeliveriesDeleted: number;
};

export async function partnerRetention(
  deps: Pick<Deps, "db" | "clock" | "config" | "atomic">,
): Promise<PartnerRetentionReport> {
  return {
    partnerConsentsDeleted: await expireConsents(deps),
    partnerInvitationsDeleted: await deleteSpentInvitations(deps),
    webhookDeliveriesDeleted: await deleteOldDeliveries(deps),
  };
}
