/**
 * Writing to the parliament that can act. A supporter in Scotland, Wales or Northern Ireland
 * writes, in one journey, to their MP and to their devolved members, each letter carrying only the
 * asks that member's parliament can act on (the campaign file says which, per ask and nation).
 *
 * Rules:
 * - Routing: an ask goes to each chosen parliament listed for it in the supporter's nation (the
 *   MP gets the reserved asks, the MSP/MS/MLA the devolved ones, both where both can act). A
 *   chosen representative whose parliament can act on none of the chosen asks is not written to,
 *   and the answer says so (`skipped`).
 * - Who: the MP, and at most one member per kind of devolved seat: the constituency MSP and one
 *   regional MSP at the supporter's choice; one of the six MSs; one of the five MLAs. Never a
 *   whole list at once (offices discount identical letters to every member of a region). Only
 *   the supporter's own members (from their lookup) can be chosen.
 * - One letter per recipient; the devolved members' share one editable text (each with their own
 *   "Dear …," greeting above it); the MP's letter is edited separately.
 * - One confirmation: the letters share a group (group_id = the first letter's id) and one
 *   emailed link (token subject `g:<group id>`) confirms them all, and a pledge ticked with them,
 *   in one atomic write. Each letter is confirmed exactly as a single letter is
 *   (letters.service.ts `confirmStatements`: the delivery state machine's confirm / hold, the
 *   one-letter-per-representative rule checked in the write, replaced letters cancelled, tallies),
 *   and then goes its own way (held, sent, stopped) like any other. Reminders and "send the link
 *   again" send one email per group, not per letter.
 */
import { asc, eq } from "drizzle-orm";
import { devolvedMembers, letterStops, members } from "../../db/schema";
import type { Body, DevolvedBody } from "../../db/schema.devolved";
import { letterBands, letters, type RecipientKind } from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";
import { emailKey } from "../../lib/email";
import { AppError } from "../../lib/errors";
import { sha256Hex } from "../../lib/tokens";
import { announceInserted, initialLetterStatus, insertOutbox } from "../delivery/delivery.machine";
import { outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind, devolvedBodyOf } from "../devolved/devolved.bodies";
import type { DevolvedView } from "../devolved/devolved.lookup";
import { type LookupResult, lookupPostcode } from "../lookup/lookup.service";
import { recordConsentStatement } from "../partners/partners.consent";
import { announceWebhookEvents } from "../partners/partners.webhooks";
import { confirmPledgesWithLetterStatements, pledgeWithLetterStatement } from "../pledges/pledges.service";
import { type Ask, type Campaign, type CampaignNation, NATION_BODIES } from "./letters.campaign";
import { confirmEmail, type LetterForEmail } from "./letters.emails";
import { letterFlags } from "./letters.flags";
import type { GroupRecipient, PreviewLettersInput, SubmitLettersInput } from "./letters.schemas";
import {
  addressLines,
  announceConfirmed,
  checkRecipientLimits,
  chosenAsks,
  confirmableColumns,
  confirmOutcome,
  confirmStatements,
  consumeEmailAllowance,
  getLetterStatus,
  type LetterStatusView,
  nearestDuplicate,
  storyShareColumns,
} from "./letters.service";
import { bands, ownWords, signature } from "./letters.similarity";
import { renderText, tidy } from "./letters.templates";

const DAY = 24 * 60 * 60 * 1000;
export const GROUP_PREFIX = "g:";

/** The nation whose competence rules apply (the test seat behaves like England: MP only). */
const campaignNation = (nation: string): CampaignNation =>
  nation in NATION_BODIES ? (nation as CampaignNation) : "England";

export type AskRoute = {
  id: string;
  title: string;
  summary: string;
  /** The parliaments that can act on it in the supporter's nation. */
  bodies: { body: Body; name: string; role: string }[];
  note: string | null;
};

/** Who can act on each of the campaign's asks in a nation (the write step shows it). */
export function askRoutes(campaign: Campaign, nation: string): AskRoute[] {
  const n = campaignNation(nation);
  return campaign.asks.map((a) => ({
    id: a.id,
    title: a.title,
    summary: a.summary,
    bodies: a.competence[n].map((b) => ({
      body: b as Body,
      name: BODY_INFO[b as Body].shortName,
      role: BODY_INFO[b as Body].role,
    })),
    note: a.competenceNote?.[n] ?? null,
  }));
}

type PlannedRecipient = {
  kind: RecipientKind;
  body: Body;
  /** Members API id (MP), our devolved_members id (MSP, MS, MLA). */
  personId: number | null;
  name: string;
  email: string | null;
  reflects: boolean;
  /** The devolved area the member sits for (a constituency, or a Holyrood region). */
  areaCode: string | null;
  /** "MP", "constituency MSP", "regional MSP for Glasgow", "MS", "MLA". */
  seatLabel: string;
};

export type PlannedLetter = {
  body: Body;
  role: string;
  asks: Ask[];
  recipients: PlannedRecipient[];
  subject: string;
  /** Editable text (for the devolved letters, without the greeting). */
  draft: string;
  /** The same text as the template would write it with every ask and no story (similarity). */
  defaultText: string;
  /** The devolved letters start "Dear <name>," per recipient; the MP's draft has its own. */
  greets: boolean;
};

export type LettersPlan = {
  postcode: string;
  nation: string;
  constituency: { code: string; name: string };
  devolved: DevolvedView | null;
  letters: PlannedLetter[];
  skipped: { name: string; role: string; reason: string }[];
  signoff: string;
  supporterAddress: string[];
};

const recipientName = (r: PlannedRecipient) =>
  `${r.name} ${r.body === "uk_parliament" ? "MP" : BODY_INFO[r.body].role}`;

/** "Ann Smith MP and Ben Jones MSP" */
export const listNames = (names: string[]) =>
  new Intl.ListFormat("en-GB", { style: "long", type: "conjunction" }).format(names);

function resolveRecipients(
  deps: Deps,
  seat: LookupResult,
  chosen: GroupRecipient[],
): Promise<PlannedRecipient[]> {
  const nation = campaignNation(seat.constituency.nation);
  const body = devolvedBodyOf(nation);
  const seen = new Set<string>();
  const perSeatKind = new Map<string, number>();
  return Promise.all(
    chosen.map(async (r) => {
      const key = r.kind === "mp" ? "mp" : `${r.kind}:${r.personId}`;
      if (seen.has(key)) throw invalid("recipients", "each representative once");
      seen.add(key);
      if (r.kind === "mp") {
        const [m] = await deps.db
          .select({
            status: members.status,
            name: members.name,
            email: members.email,
            parliamentId: members.parliamentId,
            reflects: members.reflectsToSender,
          })
          .from(members)
          .where(eq(members.constituencyCode, seat.constituency.code));
        if (!m || m.status === "vacant" || !m.name)
          throw new AppError("seat_vacant", `${seat.constituency.name} has no MP at the moment.`);
        return {
          kind: "mp",
          body: "uk_parliament",
          personId: m.parliamentId,
          name: m.name,
          email: m.email,
          reflects: m.reflects,
          areaCode: null,
          seatLabel: "MP",
        } satisfies PlannedRecipient;
      }
      const memberBody = bodyOfRepKind(r.kind) as DevolvedBody;
      const devolved = seat.devolved;
      if (!body || memberBody !== body || !devolved)
        throw invalid(
          "recipients",
          `a ${BODY_INFO[memberBody].role} only represents people in ${BODY_INFO[memberBody].nation}`,
        );
      if (devolved.status !== "known")
        throw new AppError(
          "validation_failed",
          `Choose your ${BODY_INFO[body].shortName} constituency first, so we write to your own ${BODY_INFO[body].role}.`,
          { errors: [{ path: "area", message: "choose your constituency" }] },
        );
      const own = [...devolved.members, ...devolved.regionalMembers].find((m) => m.id === r.personId);
      if (!own)
        throw invalid(
          "recipients",
          `that ${BODY_INFO[body].role} doesn't represent ${seat.postcode}; choose one of yours`,
        );
      // Never the whole list: one constituency member, and for Scotland one regional MSP.
      perSeatKind.set(own.seat, (perSeatKind.get(own.seat) ?? 0) + 1);
      if ((perSeatKind.get(own.seat) ?? 0) > 1)
        throw invalid(
          "recipients",
          own.seat === "region"
            ? "choose one regional MSP, not several"
            : `choose one ${BODY_INFO[body].role}${body === "scottish_parliament" ? "" : ", not several"}`,
        );
      const [row] = await deps.db
        .select({
          email: devolvedMembers.email,
          name: devolvedMembers.name,
          areaCode: devolvedMembers.areaCode,
        })
        .from(devolvedMembers)
        .where(eq(devolvedMembers.id, own.id));
      return {
        kind: r.kind,
        body,
        personId: own.id,
        name: row?.name ?? own.name,
        email: row?.email ?? null,
        reflects: false,
        areaCode: row?.areaCode ?? own.area.code,
        seatLabel:
          body === "scottish_parliament"
            ? own.seat === "region"
              ? `regional MSP for ${own.area.name}`
              : "constituency MSP"
            : BODY_INFO[body].role,
      } satisfies PlannedRecipient;
    }),
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function invalid(path: string, message: string) {
  return new AppError("validation_failed", message.charAt(0).toUpperCase() + message.slice(1), {
    errors: [{ path, message }],
  });
}

/**
 * Everything a preview or a submit needs: the supporter's seat and devolved area, who they chose,
 * which asks each parliament gets, and the drafts. Writes nothing.
 */
export async function planLetters(deps: Deps, input: PreviewLettersInput): Promise<LettersPlan> {
  const campaign = deps.config.campaign;
  const asks = chosenAsks(campaign, input.asks);
  const seat = await lookupPostcode(deps, {
    postcode: input.supporter.address.postcode,
    seat: input.seat,
    area: input.area,
  });
  const nation = campaignNation(seat.constituency.nation);
  const recipients = await resolveRecipients(deps, seat, input.recipients);
  const lines = addressLines(input.supporter, seat.postcode);
  const signoff = renderText(deps, "letters/signoff.txt", {
    supporter: {
      name: input.supporter.name ?? "Your name",
      addressLines: lines.length >= 2 ? lines : [...lines, "Your address"],
    },
  });
  const story = input.story || null;
  const out: PlannedLetter[] = [];
  const skipped: LettersPlan["skipped"] = [];
  for (const body of ["uk_parliament", devolvedBodyOf(nation)] as (Body | null)[]) {
    if (!body) continue;
    const mine = recipients.filter((r) => r.body === body);
    if (!mine.length) continue;
    const routed = asks.filter((a) => (a.competence[nation] as string[]).includes(body));
    if (!routed.length) {
      for (const r of mine)
        skipped.push({
          name: r.name,
          role: r.seatLabel,
          reason: `${capitalise(BODY_INFO[body].name)} can't act on the asks you chose, so we won't write to ${r.name} about them.`,
        });
      continue;
    }
    const edited = body === "uk_parliament" ? input.letters?.uk_parliament : input.letters?.devolved;
    const draftFor = (list: Ask[], withStory: string | null) =>
      body === "uk_parliament"
        ? renderText(deps, "letters/mp.txt", {
            recipient: { name: mine[0]?.name ?? "" },
            constituency: { name: seat.constituency.name },
            campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
            asks: list,
            single: list.length === 1,
            story: withStory,
          })
        : renderText(deps, `letters/${BODY_INFO[body].repKind as "msp" | "ms" | "mla"}.txt`, {
            area: { name: seat.devolved?.constituency?.name ?? seat.constituency.name },
            region: seat.devolved?.region ? { name: seat.devolved.region.name } : null,
            campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
            asks: list,
            single: list.length === 1,
            story: withStory,
          });
    const kind = BODY_INFO[body].repKind as "mp" | "msp" | "ms" | "mla";
    const place =
      body === "uk_parliament"
        ? seat.constituency.name
        : (seat.devolved?.constituency?.name ?? seat.constituency.name);
    // Subject placeholders are filled by plain replacement, never by a template engine.
    const subject =
      edited?.subject ??
      (campaign.defaultSubject[kind] ?? campaign.defaultSubject.mp).replaceAll("{{constituency}}", place);
    out.push({
      body,
      role: BODY_INFO[body].role,
      asks: routed,
      recipients: mine,
      subject,
      draft: edited?.body ? tidy(edited.body) : draftFor(routed, story),
      // Everything the campaign wrote for this parliament: every ask and one, and the asks' text.
      defaultText: [
        draftFor(campaign.asks, null),
        draftFor(campaign.asks.slice(0, 1), null),
        ...campaign.asks.flatMap((a) => [a.title, a.summary, ...a.points]),
        campaign.name,
        campaign.organisation,
        campaign.hashtag,
      ].join("\n"),
      greets: body !== "uk_parliament",
    });
  }
  return {
    postcode: seat.postcode,
    nation,
    constituency: { code: seat.constituency.code, name: seat.constituency.name },
    devolved: seat.devolved,
    letters: out,
    skipped,
    signoff,
    supporterAddress: lines,
  };
}

const greetingFor = (r: PlannedRecipient) => ({
  name: r.name,
  role: BODY_INFO[r.body].role as "MSP" | "MS" | "MLA",
});

/** The full text one recipient receives: greeting (devolved), the draft, the sign-off. */
function letterText(deps: Deps, l: PlannedLetter, r: PlannedRecipient, signoff: string) {
  const greeting = l.greets
    ? `${renderText(deps, "letters/greeting.txt", { recipient: greetingFor(r) })}\n\n`
    : "";
  return `${greeting}${l.draft}\n\n${signoff}`;
}

export async function previewLetters(deps: Deps, input: PreviewLettersInput) {
  const plan = await planLetters(deps, input);
  return {
    nation: plan.nation,
    constituency: plan.constituency,
    letters: plan.letters.map((l) => ({
      body: l.body,
      /** "uk_parliament" or "devolved": where its edits go back (`letters.<key>`). */
      key: (l.body === "uk_parliament" ? "uk_parliament" : "devolved") as "uk_parliament" | "devolved",
      bodyName: BODY_INFO[l.body].shortName,
      role: l.role,
      asks: l.asks.map((a) => a.id),
      recipients: l.recipients.map((r) => ({
        kind: r.kind,
        personId: r.personId,
        name: r.name,
        seat: r.seatLabel,
        contactable: !!r.email,
        /** The greeting above the editable text (devolved letters). */
        greeting: l.greets ? renderText(deps, "letters/greeting.txt", { recipient: greetingFor(r) }) : null,
      })),
      subject: l.subject,
      draft: l.draft,
      /** One recipient's full letter, as it will be sent. */
      text: l.recipients[0] ? letterText(deps, l, l.recipients[0], plan.signoff) : l.draft,
    })),
    skipped: plan.skipped,
    signoff: plan.signoff,
    prompt:
      input.story || input.letters?.uk_parliament?.body || input.letters?.devolved?.body
        ? undefined
        : "Add a few words of your own: letters in people's own words carry more weight.",
  };
}

export type LetterGroupView = {
  group: string;
  letters: LetterStatusView[];
  skipped: { name: string; role: string; reason: string }[];
};

async function groupView(
  deps: Deps,
  groupId: string,
  skipped: LetterGroupView["skipped"] = [],
): Promise<LetterGroupView> {
  const ids = await deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(eq(letters.groupId, groupId))
    .orderBy(asc(letters.createdAt), asc(letters.id));
  // The first letter (its id is the group's) first.
  ids.sort((a, b) => (a.id === groupId ? -1 : b.id === groupId ? 1 : 0));
  return { group: groupId, letters: await Promise.all(ids.map((r) => getLetterStatus(deps, r))), skipped };
}

/**
 * Submit letters to the supporter's MP and devolved members in one go: one row per letter, their
 * outbox rows, and ONE confirmation email, in one atomic write. Idempotent as submitLetter is: the
 * first letter carries the submission's key, a replay answers with the same group.
 */
export async function submitLetters(
  deps: Deps,
  input: SubmitLettersInput,
  ctx: { idempotencyKey?: string } = {},
): Promise<{ group: LetterGroupView; created: boolean }> {
  const campaign = deps.config.campaign;
  /** As typed: where the supporter's mail goes. */
  const email = input.supporter.email;
  /** The mailbox: what limits and every "same person" rule compare (lib/email.ts). */
  const key = emailKey(email);
  const clientKey = ctx.idempotencyKey ?? input.idempotencyKey;
  const keySource = clientKey
    ? `key:${clientKey}`
    : `group:${JSON.stringify([input.recipients, input.asks, input.story, input.letters, input.supporter, input.area])}`;
  const idempotencyKey = await sha256Hex(`${campaign.id}|${key}|${keySource}`);
  const replay = async () => {
    const [first] = await deps.db
      .select({ id: letters.id, groupId: letters.groupId })
      .from(letters)
      .where(eq(letters.idempotencyKey, idempotencyKey));
    return first ? groupView(deps, first.groupId ?? first.id) : null;
  };
  const earlier = await replay();
  if (earlier) return { group: earlier, created: false };

  const plan = await planLetters(deps, input);
  const toWrite = plan.letters.flatMap((l) => l.recipients.map((r) => ({ l, r })));
  if (!toWrite.length)
    throw new AppError(
      "validation_failed",
      "None of the representatives you chose can act on the asks you chose. Choose other asks, or write to another representative.",
      {
        errors: [{ path: "asks", message: "no chosen representative can act on these asks" }],
        skipped: plan.skipped,
      },
    );
  for (const { r } of toWrite)
    if (!r.email)
      throw new AppError(
        "recipient_not_contactable",
        `We have no email address for ${r.name}, so we can't send a letter to them. Untick them to write to the others.`,
      );
  await consumeEmailAllowance(deps, key);
  for (const { r } of toWrite)
    await checkRecipientLimits(deps, {
      kind: r.kind,
      personId: r.personId,
      name: r.name,
      email: r.email,
      constituency: plan.constituency,
      areaCode: r.areaCode,
    });

  // Abuse signals per letter (letters.flags.ts): a flagged letter is held for a moderator when
  // confirmed. If the supporter's address is one of the representatives' own, no confirmation
  // mail goes at all: nobody mails a representative's office a link to confirm letters to itself.
  const a = input.supporter.address;
  const flagsOf = new Map<PlannedRecipient, string[]>();
  for (const { r } of toWrite)
    flagsOf.set(
      r,
      await letterFlags(deps, {
        supporter: {
          name: input.supporter.name,
          email,
          addressLines: [a.line1, a.line2, a.town].filter((x): x is string => !!x),
        },
        postcode: plan.postcode,
        constituencyCode: plan.constituency.code,
        recipient: { name: r.name, email: r.email },
      }),
    );
  const mailConfirmation = ![...flagsOf.values()].some((f) => f.includes("representative_email"));

  const now = deps.clock.now();
  const expiresAt = now + deps.config.LETTER_CONFIRM_TTL_DAYS * DAY;
  const statements: Statement[] = [];
  let groupId = "";
  const names: string[] = [];
  for (const [i, { l, r }] of toWrite.entries()) {
    const id = deps.ids.uuid();
    if (i === 0) groupId = id;
    names.push(recipientName(r));
    const text = letterText(deps, l, r, plan.signoff);
    const sig = signature(ownWords(l.draft, l.defaultText));
    const dup = sig ? await nearestDuplicate(deps, campaign.id, key, sig) : null;
    const flags = flagsOf.get(r) ?? [];
    const letterMail = outboxRow(deps, {
      kind: "letter",
      letterId: id,
      state: "awaiting_confirmation",
      toName: recipientName(r),
      toEmail: r.email as string,
      reflectTo: email,
      alwaysReflect: r.reflects,
      fromName: `${input.supporter.name} ${deps.config.MAIL_FROM_SUFFIX}`,
      replyToName: input.supporter.name,
      replyTo: email,
      subject: l.subject,
      bodyText: text,
      expiresAt,
    });
    statements.push(
      deps.db.insert(letters).values({
        id,
        campaignId: campaign.id,
        constituencyCode: plan.constituency.code,
        recipientKind: r.kind,
        recipientPersonId: r.personId,
        areaCode: r.areaCode,
        groupId,
        recipientName: r.name,
        partnerKey: input.partner ?? null,
        status: initialLetterStatus(letterMail),
        confirmSentAt: mailConfirmation ? now : null,
        asks: l.asks.map((x) => x.id),
        subject: l.subject,
        body: text,
        supporterName: input.supporter.name,
        supporterEmail: email,
        supporterEmailKey: key,
        supporterAddress: plan.supporterAddress.join("\n"),
        supporterPostcode: plan.postcode,
        // The first letter holds the submission's key; the others derive theirs (the column is UNIQUE).
        idempotencyKey: i === 0 ? idempotencyKey : await sha256Hex(`${idempotencyKey}|${i}`),
        signature: sig,
        similarity: dup?.score ?? null,
        similarTo: dup?.id ?? null,
        flags: flags.length ? flags : null,
        ...storyShareColumns(input, now),
        // Created in order, so the group reads back as written.
        createdAt: now + i,
      }),
      insertOutbox(deps, [letterMail]),
    );
    if (sig)
      statements.push(deps.db.insert(letterBands).values(bands(sig).map((band) => ({ band, letterId: id }))));
  }
  // One confirmation for them all, attached to the first letter.
  const forEmail: LetterForEmail = {
    id: groupId,
    supporterName: input.supporter.name,
    supporterEmail: email,
    recipientName: listNames(names),
    tokenSubject: toWrite.length > 1 ? `${GROUP_PREFIX}${groupId}` : undefined,
  };
  const confirmMail = mailConfirmation ? await confirmEmail(deps, forEmail, expiresAt, "confirm") : null;
  if (confirmMail) statements.push(insertOutbox(deps, [confirmMail]));
  // "<partner> may contact me": recorded only for the partner the letters are credited to.
  if (input.partnerConsent && input.partner)
    statements.push(
      recordConsentStatement(deps, {
        partnerKey: input.partner,
        source: "letter",
        sourceRef: groupId,
        email,
        name: input.supporter.name,
        version: input.partnerConsent,
      }),
    );
  // A pledge ticked on the letters' form is confirmed by their one confirmation link.
  if (input.pledge)
    statements.push(
      ...(await pledgeWithLetterStatement(deps, {
        letterId: groupId,
        name: input.supporter.name,
        email,
        postcode: plan.postcode,
        constituencyCode: plan.constituency.code,
        partner: input.partner,
        pledgeConsent: input.pledge.pledgeConsent,
        updatesConsent: input.pledge.updatesConsent,
      })),
    );
  try {
    await deps.atomic(statements);
  } catch (e) {
    // Two identical submits racing: the UNIQUE index let one through; answer with that one.
    const winner = await replay();
    if (winner) return { group: winner, created: false };
    throw e;
  }
  if (confirmMail) await announceInserted(deps, [confirmMail]);
  deps.logger.info("letters submitted", {
    group: groupId,
    letters: toWrite.length,
    bodies: [...new Set(toWrite.map((w) => w.r.body))].join(","),
    constituency: plan.constituency.code,
    ...(flagsOf.size && [...flagsOf.values()].some((f) => f.length)
      ? { flags: [...new Set([...flagsOf.values()].flat())] }
      : {}),
  });
  return { group: await groupView(deps, groupId, plan.skipped), created: true };
}

// --- one confirmation -------------------------------------------------------------------------

const roleOf = (kind: RecipientKind) =>
  kind === "candidate" ? "candidate" : BODY_INFO[bodyOfRepKind(kind)].role;

/** The letters of a group, for the confirm page and the confirm itself. */
async function lettersOfGroup(deps: Deps, groupId: string) {
  const rows = await deps.db
    .select({
      ...confirmableColumns,
      subject: letters.subject,
      body: letters.body,
      stopped: letterStops.reason,
    })
    .from(letters)
    .leftJoin(letterStops, eq(letterStops.letterId, letters.id))
    .where(eq(letters.groupId, groupId))
    .orderBy(asc(letters.createdAt), asc(letters.id));
  if (!rows.length) throw new AppError("not_found", "These letters no longer exist.");
  return rows.map((r) => ({ ...r, role: roleOf(r.kind) }));
}

const LIVE = ["awaiting_confirmation", "confirmed", "held", "sent"];

/** What the confirm page shows for a group link (GET changes nothing). */
export async function groupForConfirmPage(deps: Deps, groupId: string) {
  const rows = await lettersOfGroup(deps, groupId);
  const live = rows.filter((r) => LIVE.includes(r.status));
  if (!live.length) {
    if (rows.every((r) => r.status === "expired")) throw new AppError("letter_expired");
    throw new AppError("letter_not_confirmable", "These letters were cancelled, so nothing will be sent.");
  }
  return {
    id: groupId,
    group: true as const,
    status: live.some((r) => r.status === "awaiting_confirmation")
      ? "awaiting_confirmation"
      : (live[0]?.status ?? "confirmed"),
    recipientName: listNames(live.map((r) => `${r.recipientName} ${r.role}`)),
    letters: rows.map((r) => ({
      recipientName: r.recipientName,
      role: r.role,
      subject: r.subject,
      body: r.body,
      status: r.status,
      stopped: !!r.stopped,
    })),
  };
}

/**
 * Confirm every letter of a group from its one link, in ONE atomic write: each waiting letter's
 * `confirmStatements` (the state machine's confirm or hold, guarded by the one-letter-per-
 * representative rule) and the pledge ticked with them. A letter stopped, expired or already
 * written to meanwhile is left as it is and the answer says why; the others go. Idempotent: a
 * replay changes nothing and reports `alreadyConfirmed`.
 */
export async function confirmGroup(deps: Deps, groupId: string) {
  const now = deps.clock.now();
  const before = await lettersOfGroup(deps, groupId);
  const waiting = before.filter((l) => l.status === "awaiting_confirmation");
  await deps.atomic([
    ...waiting.flatMap((l) => confirmStatements(deps, l, now)),
    ...confirmPledgesWithLetterStatements(deps, groupId, now),
  ]);
  await announceConfirmed(
    deps,
    waiting.map((l) => l.id),
  );
  if (before.some((l) => l.partnerKey)) await announceWebhookEvents(deps, now);
  const outcomes = await Promise.all(
    before.map(async (l) => ({ l, ...(await confirmOutcome(deps, l, now)) })),
  );
  const going = outcomes.filter((o) => !o.problem);
  if (!going.length) {
    const problems = outcomes.map((o) => o.problem as AppError);
    if (problems.every((p) => p.code === problems[0]?.code) && problems.length === 1) throw problems[0];
    if (problems.every((p) => p.code === "letter_expired")) throw new AppError("letter_expired");
    throw new AppError(
      problems.every((p) => p.code === "already_written") ? "already_written" : "letter_not_confirmable",
      problems.map((p) => p.message).join(" "),
    );
  }
  const confirmedNow = going.filter((o) => o.confirmedAt === now && o.l.status === "awaiting_confirmation");
  if (confirmedNow.length)
    deps.logger.info("letters confirmed", {
      group: groupId,
      letters: confirmedNow.length,
      of: before.length,
    });
  return {
    id: groupId,
    group: true as const,
    status: going.some((o) => o.status === "held") ? "held" : (going[0]?.status ?? "confirmed"),
    recipientName: listNames(going.map((o) => `${o.l.recipientName} ${o.l.role}`)),
    alreadyConfirmed: !waiting.length,
    letters: outcomes.map((o) => ({
      recipientName: o.l.recipientName,
      role: o.l.role,
      status: o.status,
      /** Why this one is not going (already written to within the window, stopped, expired). */
      problem: o.problem?.message ?? null,
    })),
  };
}

/**
 * A reminder or a fresh link is due for a letter: a letter of a group sends it only if it is the
 * group's first still waiting (the email then names every waiting letter and carries the group's
 * link); a letter on its own sends its own.
 */
export async function groupReminderFor(
  deps: Deps,
  letter: { id: string; groupId: string | null },
): Promise<{ send: false } | { send: true; forEmail: <L extends LetterForEmail>(l: L) => L }> {
  const own = { send: true as const, forEmail: <L extends LetterForEmail>(l: L) => l };
  if (!letter.groupId) return own;
  const rows = await lettersOfGroup(deps, letter.groupId);
  if (rows.length < 2) return own;
  const waiting = rows.filter((r) => r.status === "awaiting_confirmation");
  if (waiting[0]?.id !== letter.id) return { send: false };
  const names = listNames(waiting.map((r) => `${r.recipientName} ${r.role}`));
  const tokenSubject = `${GROUP_PREFIX}${letter.groupId}`;
  return { send: true, forEmail: (l) => ({ ...l, recipientName: names, tokenSubject }) };
}
