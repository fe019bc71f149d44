/**
 * The supporter's journey, server-rendered: postcode -> your MP (and candidates, and whether
 * they have pledged) -> choose asks and write -> preview and edit -> your details and consents
 * -> "check your email". Confirming, the thank-you and the follow-up are behind the email links.
 *
 * Rules:
 * - Every step works without JavaScript: plain GET/POST forms; /static/app.js only enhances.
 * - The journey keeps no server-side state: the draft travels in the form (hidden fields), so a
 *   failed step re-renders with everything the supporter typed, and the same pages run on
 *   Workers. Nothing is stored until the final submit, which calls the letters verbs.
 * - Handlers call the letters, pledges and lookup verbs; they never re-implement their rules.
 * - One set of templates serves the site ("/") and partners' frames ("/embed", compact layout,
 *   partner recorded on every action). Templates build links from `base` and `embed.qs`.
 */
import { type Context, Hono } from "hono";
import type { ZodError } from "zod";
import type { Config } from "../../env";
import { withinLimit } from "../../http/rate-limit";
import type { AppEnv } from "../../http/types";
import { onlyTooLong } from "../../http/validate";
import { AppError, isAppError } from "../../lib/errors";
import { type Lang, translate } from "../../lib/i18n";
import { parseOutcode, parsePostcode } from "../../lib/postcode";
import { sameOriginOnly } from "../admin/admin.csrf";
import { publicReplyRate } from "../admin/admin.replies";
import { BODY_INFO } from "../devolved/devolved.bodies";
import { brandingOf, type Site, siteOf } from "../letters/letters.campaign";
import { askRoutes, listNames, previewLetters, submitLetters } from "../letters/letters.group";
import {
  type GroupRecipient,
  PreviewLetterInput,
  PreviewLettersInput,
  ResendConfirmationInput,
  SubmitLetterInput,
  SubmitLettersInput,
} from "../letters/letters.schemas";
import { previewLetter, resendConfirmation, submitLetter } from "../letters/letters.service";
import { lookupOutcode, lookupPostcode, searchConstituencies } from "../lookup/lookup.service";
import { partnerConsentField } from "../partners/partners.consent";
import {
  emptyPledgeForm,
  pledgeFieldErrors,
  pledgeFormView,
  pledgeServiceError,
} from "../pledges/pledges.form";
import { CreatePledgeInput, CURRENT_CONSENT, currentConsent } from "../pledges/pledges.schemas";
import { createPledge, pledgeCounter } from "../pledges/pledges.service";
import { frontPage } from "./journey.front";
import { shareLinks } from "./journey.share";

const MAX_INPUT = 100;

type Mode = "site" | "embed";
type FieldError = { field: string; message: string };
type Form = Record<string, string | string[] | undefined>;

const one = (v: unknown) =>
  typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
const many = (v: unknown) =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === "string");

/** Messages in the supporter's words, by form field; zod's own message is the fallback. */
const FIELD_MESSAGES: Record<string, string> = {
  asks: "Choose at least one ask for your letter",
  subject: "Enter a subject for your letter",
  body: "Your letter is empty: write a few words, or go back and choose your asks again",
  name: "Enter your full name",
  email: "Enter an email address, such as jane@example.org",
  line1: "Enter the first line of your address",
  line2: "Address line 2 must be on one line and at most 120 characters",
  town: "Enter your town or city",
  agree: "Tick the box to say we may send your letter and details to your representative",
  pledgeConsent: "Tick the box to make your pledge",
  postcode: "Enter your postcode",
};

/** zod path (letters/pledges input shapes) -> our form field id. */
function fieldFor(path: PropertyKey[]): string {
  const last = String(path[path.length - 1] ?? "");
  if (path[0] === "supporter") return last === "postcode" ? "postcode" : last;
  return String(path[0] ?? "form");
}

function issues(error: { issues: { path: PropertyKey[]; message: string }[] }): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const i of error.issues) {
    const field = fieldFor(i.path);
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message: FIELD_MESSAGES[field] ?? i.message });
  }
  return out;
}

/** 422 when the only problem is text over its length (as the API answers), else 400. */
const refusalStatus = (error: ZodError) => (onlyTooLong(error) ? 422 : 400);

const errorMap = (errors: FieldError[]) => Object.fromEntries(errors.map((e) => [e.field, e.message]));

/** A constituency chosen by the supporter (outcode list, or "I still live there"): an ONS code. */
const seatParam = (v: unknown) => (typeof v === "string" && /^[A-Z]\d{8}$/.test(v) ? v : "");
/** A devolved constituency chosen by the supporter (Holyrood, Senedd or Assembly code). */
const areaParam = (v: unknown) => (typeof v === "string" && /^(S16|W09|N06)\d{6}$/.test(v) ? v : "");

/** "mp" or "candidate:123" (the write step's recipient). */
function recipientOf(to: string) {
  const m = /^candidate:(\d{1,9})$/.exec(to);
  return m ? { kind: "candidate" as const, personId: Number(m[1]) } : { kind: "mp" as const };
}

/**
 * Errors a page shows inside the form, with everything the supporter typed: their own mistakes,
 * limits, and the faults they can wait out (an upstream or the database busy). Only bugs go to
 * onError.
 */
const shownInForm = (e: unknown): e is AppError =>
  isAppError(e) && (e.status < 500 || e.code === "upstream_unavailable" || e.code === "database_unavailable");

/** Retry-After for a refusal shown inside a form (429, 503). */
function retryHeader(c: Context<AppEnv>, e: AppError) {
  if (typeof e.extra.retryAfter === "number") c.header("retry-after", String(Math.ceil(e.extra.retryAfter)));
}

/** The pledge form's words made in code (consents, messages) in the frame's language. */
function translatePledgeForm(
  lang: Lang,
  f: ReturnType<typeof pledgeFormView>,
): ReturnType<typeof pledgeFormView> {
  const t = (s: string | undefined) => (s === undefined ? s : translate(lang, s));
  return {
    ...f,
    formError: t(f.formError),
    name: { ...f.name, error: t(f.name.error) },
    email: { ...f.email, error: t(f.email.error) },
    postcode: { ...f.postcode, error: t(f.postcode.error) },
    pledgeConsent: {
      ...f.pledgeConsent,
      error: t(f.pledgeConsent.error),
      text: translate(lang, f.pledgeConsent.text),
    },
    updatesConsent: { ...f.updatesConsent, text: translate(lang, f.updatesConsent.text) },
  };
}

function translateSite(lang: Lang, site: Site): Site {
  return {
    ...site,
    pledgeText: translate(lang, site.pledgeText),
    storyPrompt: translate(lang, site.storyPrompt),
    thanks: translate(lang, site.thanks),
  };
}

export function journeyPages(mode: Mode) {
  const base = mode === "embed" ? "/embed" : "";

  function render(c: Context<AppEnv>, name: string, data: Record<string, unknown>, status = 200) {
    const embed = mode === "embed" ? c.var.embed : undefined;
    const amp = embed?.qs ? `&${embed.qs}` : "";
    // Inside a partner's frame the supporter's language applies (data-lang; lib/i18n.ts): the
    // template's Welsh copy, and the title and messages made in code.
    const lang = embed?.lang;
    const errors = (data.errors as FieldError[] | undefined)?.map((e) => ({
      ...e,
      message: translate(lang, e.message),
    }));
    const consent = data.consent as ReturnType<typeof currentConsent> | undefined;
    const pledgeForm = data.pledgeForm as ReturnType<typeof pledgeFormView> | undefined;
    return c.html(
      c.var.deps.templates.render(name, {
        ...data,
        ...(lang && lang !== "en"
          ? {
              lang,
              title: translate(lang, String(data.title ?? "")),
              ...(errors ? { errors, error: errorMap(errors) } : {}),
              ...(consent
                ? {
                    consent: {
                      pledge: { ...consent.pledge, text: translate(lang, consent.pledge.text) },
                      updates: { ...consent.updates, text: translate(lang, consent.updates.text) },
                    },
                  }
                : {}),
              ...(pledgeForm ? { pledgeForm: translatePledgeForm(lang, pledgeForm) } : {}),
              // The campaign file's own sentences, where the catalogue has them.
              site: translateSite(lang, siteOf(c.var.deps.config.campaign)),
            }
          : {}),
        base,
        embed,
        /** Append to a link that already has a query string. */
        amp,
        /** A whole query string for a link that has none. */
        qs: embed?.qs ? `?${embed.qs}` : "",
        /** The journey's first page (Hono routes are strict about a trailing slash). */
        home: `${base || "/"}${embed?.qs ? `?${embed.qs}` : ""}`,
        partner: embed?.partner?.key,
      }),
      status as 200,
    );
  }

  /** Credited only when the flow started on one of the partner's pages (widget.attribution.ts). */
  const partnerOf = (c: Context<AppEnv>) =>
    mode === "embed" ? (c.var.embed?.attributed ?? undefined) : undefined;

  /** The separate "<partner> may contact me" box: only in a flow credited to that partner. */
  const partnerConsentFor = (c: Context<AppEnv>) => {
    const embed = mode === "embed" ? c.var.embed : undefined;
    return embed?.attributed && embed.partner?.key === embed.attributed
      ? partnerConsentField(embed.partner, embed.lang)
      : null;
  };
  /** The box's version if ticked and offered (a version sent without the box is ignored). */
  const partnerConsentValue = (c: Context<AppEnv>, ticked: string) =>
    ticked && partnerConsentFor(c) ? ticked : undefined;

  async function readForm(c: Context<AppEnv>): Promise<Form> {
    const body = await c.req.parseBody({ all: true });
    const f: Form = {};
    for (const [k, v] of Object.entries(body))
      f[k] = k === "asks" || k === "rcpt" || k === "lk" ? many(v) : one(v);
    return f;
  }

  /** The letter draft as carried between steps. */
  function draftOf(f: Form) {
    return {
      postcode: one(f.postcode).slice(0, MAX_INPUT),
      to: one(f.to) || "mp",
      asks: many(f.asks),
      story: one(f.story),
      subject: one(f.subject),
      body: one(f.body),
      idem: /^[A-Za-z0-9_.:-]{8,100}$/.test(one(f.idem)) ? one(f.idem) : "",
      /** The seat confirmed for a postcode that has closed (see lookupPostcode). */
      seat: seatParam(one(f.seat)),
      // --- writing to the MP and the devolved members at once (to=all) ---
      /** The devolved constituency the supporter chose where the postcode can't tell. */
      area: areaParam(one(f.area)),
      /** Chosen recipients: "mp", "msp:12" (checkboxes), plus the one list member (radios). */
      rcpt: [...new Set([...many(f.rcpt), one(f.regional), one(f.member)])].filter((r) =>
        /^(mp|(msp|ms|mla):\d{1,9})$/.test(r),
      ),
      /** The devolved members' shared letter. */
      dsubject: one(f.dsubject),
      dbody: one(f.dbody),
      /** Which letters the preview showed ("uk_parliament", "devolved"). */
      letterKeys: many(f.lk).filter((k) => k === "uk_parliament" || k === "devolved"),
    };
  }
  type Draft = ReturnType<typeof draftOf>;

  /** The supporter's language inside a frame (undefined on the site: English). */
  const langOf = (c: Context<AppEnv>) => (mode === "embed" ? c.var.embed?.lang : undefined);
  /** An ask's title and summary in the supporter's language (the campaign file is English). */
  const inLang = <A extends { title: string; summary: string }>(c: Context<AppEnv>, a: A): A => ({
    ...a,
    title: translate(langOf(c), a.title),
    summary: translate(langOf(c), a.summary),
  });
  const askList = (c: Context<AppEnv>, chosen: string[]) =>
    c.var.deps.config.campaign.asks.map((a) => ({ ...inLang(c, a), checked: chosen.includes(a.id) }));

  function previewInput(d: Draft, partner: string | undefined, withText: boolean) {
    return PreviewLetterInput.safeParse({
      recipient: recipientOf(d.to),
      asks: d.asks,
      story: d.story || undefined,
      subject: withText && d.subject ? d.subject : undefined,
      body: withText && d.body ? d.body : undefined,
      supporter: { address: { postcode: d.postcode } },
      seat: d.seat || undefined,
      partner,
    });
  }

  function writePage(
    c: Context<AppEnv>,
    d: Draft,
    recipientName: string,
    errors: FieldError[] = [],
    status = 200,
  ) {
    return render(
      c,
      "pages/journey/write",
      {
        title: `Write to ${recipientName}`,
        draft: d,
        recipientName,
        asks: askList(c, d.asks),
        errors,
        error: errorMap(errors),
      },
      errors.length ? status : 200,
    );
  }

  // --- writing to the MP and the devolved members at once (to=all; letters.group.ts) ---------

  const isGroup = (d: Draft) => d.to === "all";
  const roleOf = (kind: string) =>
    kind === "msp" || kind === "ms" || kind === "mla" ? kind.toUpperCase() : kind === "mp" ? "MP" : "";
  const recipientsOf = (rcpt: string[]): GroupRecipient[] =>
    rcpt.map((r) => {
      if (r === "mp") return { kind: "mp" as const };
      const [kind, id] = r.split(":");
      return { kind: kind as "msp" | "ms" | "mla", personId: Number(id) };
    });
  /** The supporter's edits of each letter the preview showed (none on the way in from step 1). */
  const editsOf = (d: Draft) => ({
    uk_parliament: d.letterKeys.includes("uk_parliament")
      ? { subject: d.subject || undefined, body: d.body || undefined }
      : undefined,
    devolved: d.letterKeys.includes("devolved")
      ? { subject: d.dsubject || undefined, body: d.dbody || undefined }
      : undefined,
  });
  const groupFieldFor = (path: PropertyKey[]) => (path[0] === "recipients" ? "recipients" : fieldFor(path));

  /** Step 1 for a supporter in Scotland, Wales or Northern Ireland: who, and which asks. */
  async function groupWritePage(c: Context<AppEnv>, d: Draft, errors: FieldError[] = [], status = 200) {
    const deps = c.var.deps;
    const seat = await lookupPostcode(deps, {
      postcode: d.postcode,
      seat: d.seat || undefined,
      area: d.area || undefined,
    });
    d.postcode = seat.postcode;
    d.seat = seat.terminated ? seat.constituency.code : "";
    const devolved = seat.devolved;
    if (!devolved) {
      // No devolved parliament here (England, the test seat): the letter to the MP.
      d.to = "mp";
      return writePage(c, d, seat.mp?.name ?? "your MP", errors, status);
    }
    // Only an area the supporter chose needs carrying along (a postcode's own is found again).
    d.area = devolved.source === "supporter" ? (devolved.constituency?.code ?? "") : "";
    const body = devolved.body;
    const kind = BODY_INFO[body].repKind;
    // First visit: the MP and (Scotland) the constituency MSP are ticked when we can write to them.
    const first = !d.rcpt.length && !errors.length;
    const checked = (v: string) => d.rcpt.includes(v);
    const member = (m: (typeof devolved.members)[number]) => ({
      ...m,
      value: `${kind}:${m.id}`,
      checked: checked(`${kind}:${m.id}`),
    });
    const scotland = body === "scottish_parliament";
    const constituencyMembers = scotland
      ? devolved.members.map((m) => ({
          ...member(m),
          checked: first ? m.contactable : checked(`${kind}:${m.id}`),
        }))
      : [];
    const listMembers = (scotland ? devolved.regionalMembers : devolved.members).map(member);
    const place = devolved.constituency?.name ?? "";
    const nation = seat.constituency.nation;
    return render(
      c,
      "pages/journey/write-group",
      {
        title: `Write to your MP and ${BODY_INFO[body].role}s`,
        draft: d,
        choosing: true,
        recipientName: "your representatives",
        nation,
        body,
        role: BODY_INFO[body].role,
        devolvedName: BODY_INFO[body].name,
        mp: seat.mp
          ? {
              ...seat.mp,
              checked: first ? seat.mp.contactable : checked("mp"),
            }
          : null,
        constituencyMembers,
        listMembers,
        listField: scotland ? "regional" : "member",
        listLegend: scotland
          ? `One of your seven regional MSPs for ${devolved.region?.name ?? "your region"} (optional)`
          : `Which of your ${devolved.constituency?.seats ?? ""} ${BODY_INFO[body].role}s for ${place}?`,
        listNone: scotland ? "No regional MSP" : `No ${BODY_INFO[body].role} this time`,
        listChosen: listMembers.some((m) => m.checked),
        notice: devolved.notice?.detail,
        areaChoices: devolved.choices.map((a) => ({
          ...a,
          selected: a.code === devolved.constituency?.code,
        })),
        asks: askRoutes(deps.config.campaign, nation).map((a) => ({
          ...inLang(c, a),
          checked: d.asks.includes(a.id),
        })),
        errors,
        error: errorMap(errors),
      },
      errors.length ? status : 200,
    );
  }

  /** Step 2: one editable letter per parliament. */
  async function groupPreviewPage(
    c: Context<AppEnv>,
    d: Draft,
    withEdits: boolean,
    errors: FieldError[] = [],
  ) {
    const parsed = PreviewLettersInput.safeParse({
      recipients: recipientsOf(d.rcpt),
      asks: d.asks,
      story: d.story || undefined,
      letters: withEdits ? editsOf(d) : undefined,
      supporter: { address: { postcode: d.postcode } },
      seat: d.seat || undefined,
      area: d.area || undefined,
      partner: partnerOf(c),
    });
    if (!parsed.success) {
      const errs = issues({
        issues: parsed.error.issues.map((i) => ({ ...i, path: [groupFieldFor(i.path)] })),
      });
      for (const e of errs)
        if (e.field === "recipients") e.message = "Choose at least one representative to write to";
      return groupWritePage(c, d, errs, refusalStatus(parsed.error));
    }
    const p = await previewLetters(c.var.deps, parsed.data);
    if (!p.letters.length)
      return groupWritePage(
        c,
        d,
        [
          {
            field: "asks",
            message:
              "None of the representatives you chose can act on the asks you chose: choose other asks, or another representative",
          },
        ],
        400,
      );
    const uk = p.letters.find((l) => l.key === "uk_parliament");
    const dv = p.letters.find((l) => l.key === "devolved");
    const bad = new Map(errors.map((e) => [e.field, e.message]));
    return render(
      c,
      "pages/journey/preview-group",
      {
        title: "Check and edit your letters",
        draft: {
          ...d,
          subject: uk?.subject ?? "",
          body: uk?.draft ?? "",
          dsubject: dv?.subject ?? "",
          dbody: dv?.draft ?? "",
          letterKeys: p.letters.map((l) => l.key),
        },
        recipientName: listNames(p.letters.flatMap((l) => l.recipients.map((r) => r.name))),
        letters: p.letters.map((l) => {
          const subjectField = l.key === "uk_parliament" ? "subject" : "dsubject";
          const bodyField = l.key === "uk_parliament" ? "body" : "dbody";
          return {
            ...l,
            subjectField,
            bodyField,
            greetings: l.recipients.map((r) => r.greeting).filter(Boolean),
            askTitles: l.asks.map((id) =>
              translate(langOf(c), c.var.deps.config.campaign.asks.find((a) => a.id === id)?.title ?? id),
            ),
            error: bad.get(bodyField) ?? bad.get(subjectField),
          };
        }),
        skipped: p.skipped,
        signoff: p.signoff,
        prompt: p.prompt,
        errors,
        error: errorMap(errors),
      },
      errors.length ? 400 : 200,
    );
  }

  const pages = new Hono<AppEnv>()
    // --- 1. postcode -------------------------------------------------------------------------
    .get("/", async (c) => {
      // Inside a partner's frame: straight to the first step, nothing else to load.
      if (mode === "embed") return render(c, "pages/home", { title: "Find your MP" });
      const deps = c.var.deps;
      const campaign = deps.config.campaign;
      // Nothing personal on it: a shared cache (CDN) may keep it a minute when a share link brings
      // a crowd; a browser asks again, so someone who just pledged sees their pledge counted.
      c.header("cache-control", "public, max-age=0, s-maxage=60");
      return render(c, "pages/home", {
        title: `Ask your MP to back the ${campaign.name}`,
        description: brandingOf(campaign).hero.text,
        front: await frontPage(deps),
        share: shareLinks(deps.config),
      });
    })
    // --- 2. your MP and candidates (or search results) ----------------------------------------
    .get("/find", async (c) => {
      const deps = c.var.deps;
      const postcode = (c.req.query("postcode") ?? "").slice(0, MAX_INPUT);
      const q = (c.req.query("q") ?? "").slice(0, MAX_INPUT).trim();
      const seat = seatParam(c.req.query("seat"));
      const area = areaParam(c.req.query("area"));
      try {
        withinLimit(c);
        if (q || c.req.query("q") !== undefined) {
          if (q.length < 2)
            throw new AppError("validation_failed", "Type at least 2 letters of the constituency name");
          const results = await searchConstituencies(deps, { q });
          return render(c, "pages/search", { title: `Constituencies matching ${q}`, q, results });
        }
        if (!postcode.trim()) throw new AppError("validation_failed", FIELD_MESSAGES.postcode);
        const outcode = parsePostcode(postcode) ? null : parseOutcode(postcode);
        if (outcode) {
          // The first half of a postcode: the seats it spans, to choose from; then the full
          // postcode, which a letter needs (MPs answer their own constituents).
          const { seats } = await lookupOutcode(deps, { outcode });
          const chosen = seats.find((s) => s.constituency.code === seat);
          if (chosen)
            return render(c, "pages/outcode-chosen", {
              title: `Your MP: ${chosen.constituency.name}`,
              outcode,
              chosen,
              postcode: `${outcode} `,
            });
          return render(c, "pages/outcode", {
            title: `Which constituency? ${outcode}`,
            outcode,
            seats,
            single: seats.length === 1,
          });
        }
        const result = await lookupPostcode(deps, {
          postcode,
          seat: seat || undefined,
          area: area || undefined,
        });
        const dv = result.devolved;
        // The MP's reply rate, only once enough constituents have answered (admin.replies.ts).
        const mpReplies = result.mp
          ? await publicReplyRate(deps, { kind: "mp", personId: result.mp.parliamentId })
          : null;
        return render(c, "pages/result", {
          title: `Your MP: ${result.constituency.name}`,
          result: { ...result, mpReplies },
          actions: true,
          // "Write to your MP and MSPs": when there is someone we can send a letter to.
          writeAll:
            !!dv &&
            (!!result.mp?.contactable || [...dv.members, ...dv.regionalMembers].some((m) => m.contactable)),
          postcodeQ: encodeURIComponent(result.postcode),
          // A closed postcode the supporter confirmed: the seat travels with every next step.
          seatCode: result.terminated ? result.constituency.code : "",
        });
      } catch (e) {
        if (!shownInForm(e)) throw e;
        retryHeader(c, e);
        const field = q || c.req.query("q") !== undefined ? "q" : "postcode";
        const message = e.detail ?? e.title;
        // "That postcode closed; it was in X. Is that still where you live?"
        const closedIn =
          e.code === "postcode_terminated" && e.extra.constituency
            ? { constituency: e.extra.constituency, postcodeQ: encodeURIComponent(postcode.trim()) }
            : undefined;
        return render(
          c,
          "pages/home",
          {
            title: "Find your MP",
            postcode,
            q,
            errors: [{ field, message }],
            error: { [field]: message },
            closedIn,
          },
          e.status,
        );
      }
    })
    // --- 3. choose asks and write --------------------------------------------------------------
    .get("/write", async (c) => {
      const deps = c.var.deps;
      const d = draftOf({
        postcode: c.req.query("postcode"),
        to: c.req.query("to"),
        seat: c.req.query("seat"),
      });
      d.idem = deps.ids.uuid();
      d.area = areaParam(c.req.query("area"));
      try {
        withinLimit(c);
        if (isGroup(d)) return await groupWritePage(c, d);
        const seat = await lookupPostcode(deps, {
          postcode: d.postcode,
          seat: d.seat || undefined,
          devolved: false,
        });
        const r = recipientOf(d.to);
        const name =
          r.kind === "mp"
            ? seat.mp?.name
            : seat.election?.candidates.find((x) => x.personId === r.personId)?.name;
        if (!name)
          throw new AppError("not_found", `We couldn't find who to write to in ${seat.constituency.name}.`);
        d.postcode = seat.postcode;
        // Only a closed postcode needs the confirmed seat carried along.
        d.seat = seat.terminated ? seat.constituency.code : "";
        return writePage(c, d, name);
      } catch (e) {
        if (!shownInForm(e)) throw e;
        retryHeader(c, e);
        const message = e.detail ?? e.title;
        return render(
          c,
          "pages/home",
          {
            title: "Find your MP",
            postcode: d.postcode,
            errors: [{ field: "postcode", message }],
            error: { postcode: message },
          },
          e.status,
        );
      }
    })
    // Back from the preview to change asks or story: the draft comes along.
    .post("/write", async (c) => {
      const f = await readForm(c);
      const d = draftOf(f);
      const name = one(f.recipientName) || "your MP";
      const refusal = c.get("limitRefusal");
      if (refusal) {
        retryHeader(c, refusal);
        return writePage(c, d, name, [{ field: "form", message: refusal.detail ?? refusal.title }], 429);
      }
      if (isGroup(d)) {
        try {
          return await groupWritePage(c, d);
        } catch (e) {
          if (!shownInForm(e)) throw e;
          retryHeader(c, e);
          return writePage(
            c,
            { ...d, to: "mp" },
            name,
            [{ field: "form", message: e.detail ?? e.title }],
            e.status,
          );
        }
      }
      return writePage(c, d, name);
    })
    // --- 4. preview and edit -----------------------------------------------------------------
    .post("/write/preview", async (c) => {
      const f = await readForm(c);
      const d = draftOf(f);
      // Coming back from the details step keeps the supporter's edits; from the write step the
      // letter is rebuilt from the chosen asks and story.
      const parsed = previewInput(d, partnerOf(c), one(f.from) === "details");
      const name = one(f.recipientName) || "your MP";
      const refusal = c.get("limitRefusal");
      if (refusal) {
        retryHeader(c, refusal);
        return writePage(c, d, name, [{ field: "form", message: refusal.detail ?? refusal.title }], 429);
      }
      if (isGroup(d)) {
        try {
          return await groupPreviewPage(c, d, one(f.from) === "details");
        } catch (e) {
          if (!shownInForm(e)) throw e;
          retryHeader(c, e);
          const field =
            e.code === "validation_failed"
              ? String((e.extra.errors as { path: string }[] | undefined)?.[0]?.path ?? "asks")
              : "form";
          return groupWritePage(c, d, [{ field, message: e.detail ?? e.title }], e.status);
        }
      }
      if (!parsed.success) return writePage(c, d, name, issues(parsed.error), refusalStatus(parsed.error));
      try {
        const p = await previewLetter(c.var.deps, parsed.data);
        return render(c, "pages/journey/preview", {
          title: "Check and edit your letter",
          draft: { ...d, subject: p.subject, body: p.draft },
          recipient: p.recipient,
          signoff: p.signoff,
          prompt: p.prompt,
        });
      } catch (e) {
        if (!shownInForm(e)) throw e;
        retryHeader(c, e);
        const field = e.code === "validation_failed" ? "asks" : "form";
        return writePage(c, d, name, [{ field, message: e.detail ?? e.title }], e.status);
      }
    })
    // --- 5. your details and consents --------------------------------------------------------
    .post("/write/details", async (c) => {
      const f = await readForm(c);
      const d = draftOf(f);
      const errors: FieldError[] = [];
      if (isGroup(d)) {
        // Every letter the preview showed needs a subject and some words.
        if (d.letterKeys.includes("uk_parliament")) {
          if (!d.subject.trim()) errors.push({ field: "subject", message: FIELD_MESSAGES.subject as string });
          if (!d.body.trim()) errors.push({ field: "body", message: FIELD_MESSAGES.body as string });
        }
        if (d.letterKeys.includes("devolved")) {
          if (!d.dsubject.trim())
            errors.push({ field: "dsubject", message: FIELD_MESSAGES.subject as string });
          if (!d.dbody.trim()) errors.push({ field: "dbody", message: FIELD_MESSAGES.body as string });
        }
        if (errors.length) return groupPreviewPage(c, d, true, errors);
        return render(c, "pages/journey/details", {
          title: "Your details",
          draft: d,
          recipientName: one(f.recipientName),
          plural: true,
          form: {},
          consent: currentConsent(c.var.deps.config.campaign),
          partnerConsent: partnerConsentFor(c),
        });
      }
      if (!d.subject.trim()) errors.push({ field: "subject", message: FIELD_MESSAGES.subject as string });
      if (!d.body.trim()) errors.push({ field: "body", message: FIELD_MESSAGES.body as string });
      if (errors.length)
        return render(
          c,
          "pages/journey/preview",
          {
            title: "Check and edit your letter",
            draft: d,
            recipient: { name: one(f.recipientName) },
            errors,
            error: errorMap(errors),
          },
          400,
        );
      return render(c, "pages/journey/details", {
        title: "Your details",
        draft: d,
        recipientName: one(f.recipientName),
        form: {},
        consent: currentConsent(c.var.deps.config.campaign),
        partnerConsent: partnerConsentFor(c),
      });
    })
    // --- 6. submit -> check your email -------------------------------------------------------
    .post("/write/send", async (c) => {
      const deps = c.var.deps;
      const f = await readForm(c);
      const d = draftOf(f);
      const form = {
        name: one(f.name),
        email: one(f.email),
        line1: one(f.line1),
        line2: one(f.line2),
        town: one(f.town),
        agree: one(f.agree),
        pledge: one(f.pledge),
        updates: one(f.updates),
        partnerConsent: one(f.partnerConsent),
        shareStory: one(f.shareStory),
      };
      const recipientName = one(f.recipientName);
      const again = (errors: FieldError[], status: number) =>
        render(
          c,
          "pages/journey/details",
          {
            title: "Your details",
            draft: d,
            recipientName,
            plural: isGroup(d),
            form,
            consent: currentConsent(c.var.deps.config.campaign),
            partnerConsent: partnerConsentFor(c),
            errors,
            error: errorMap(errors),
          },
          status,
        );
      // The pledge box: confirmed by the letter's own confirmation link (one email, one click).
      const pledge = form.pledge
        ? {
            pledgeConsent: CURRENT_CONSENT.pledge,
            updatesConsent: form.updates ? CURRENT_CONSENT.updates : undefined,
          }
        : undefined;
      const supporter = {
        name: form.name,
        email: form.email,
        address: { line1: form.line1, line2: form.line2, town: form.town, postcode: d.postcode },
      };
      if (isGroup(d)) {
        // To the MP and the devolved members at once: one letter each, one confirmation.
        const parsedGroup = SubmitLettersInput.safeParse({
          recipients: recipientsOf(d.rcpt),
          asks: d.asks,
          story: d.story || undefined,
          letters: editsOf(d),
          supporter,
          seat: d.seat || undefined,
          area: d.area || undefined,
          partner: partnerOf(c),
          partnerConsent: partnerConsentValue(c, form.partnerConsent),
          idempotencyKey: d.idem || undefined,
          pledge,
          shareStory: form.shareStory && d.story ? CURRENT_CONSENT.storyShare : undefined,
        });
        const errs = parsedGroup.success
          ? []
          : issues({
              issues: parsedGroup.error.issues.map((i) => ({ ...i, path: [groupFieldFor(i.path)] })),
            });
        if (!form.agree) errs.push({ field: "agree", message: FIELD_MESSAGES.agree as string });
        let group: Awaited<ReturnType<typeof submitLetters>>["group"];
        try {
          withinLimit(c);
          if (!parsedGroup.success) return again(errs, form.agree ? refusalStatus(parsedGroup.error) : 400);
          if (errs.length) return again(errs, 400);
          ({ group } = await submitLetters(deps, parsedGroup.data));
        } catch (e) {
          if (!shownInForm(e)) throw e;
          retryHeader(c, e);
          return again([{ field: "form", message: e.detail ?? e.title }], e.status);
        }
        const names = group.letters.map((l) => `${l.recipient.name} ${roleOf(l.recipient.kind)}`);
        return render(c, "pages/journey/check-email", {
          title: "Check your email",
          kind: "letter",
          submitted: "letter",
          email: parsedGroup.data.supporter.email,
          recipientName: listNames(names),
          plural: group.letters.length > 1,
          skipped: group.skipped,
          pledged: !!parsedGroup.data.pledge,
          share: shareLinks(deps.config),
        });
      }
      const parsed = SubmitLetterInput.safeParse({
        recipient: recipientOf(d.to),
        asks: d.asks,
        story: d.story || undefined,
        subject: d.subject,
        body: d.body,
        supporter,
        seat: d.seat || undefined,
        partner: partnerOf(c),
        partnerConsent: partnerConsentValue(c, form.partnerConsent),
        idempotencyKey: d.idem || undefined,
        pledge,
        shareStory: form.shareStory && d.story ? CURRENT_CONSENT.storyShare : undefined,
      });
      const errors = parsed.success ? [] : issues(parsed.error);
      if (!form.agree) errors.push({ field: "agree", message: FIELD_MESSAGES.agree as string });
      let letter: Awaited<ReturnType<typeof submitLetter>>["letter"];
      try {
        withinLimit(c);
        if (!parsed.success)
          return again(
            errors,
            errors.length > issues(parsed.error).length ? 400 : refusalStatus(parsed.error),
          );
        if (errors.length) return again(errors, 400);
        ({ letter } = await submitLetter(deps, parsed.data));
      } catch (e) {
        if (!shownInForm(e)) throw e;
        retryHeader(c, e);
        return again([{ field: "form", message: e.detail ?? e.title }], e.status);
      }
      return render(c, "pages/journey/check-email", {
        title: "Check your email",
        kind: "letter",
        submitted: "letter",
        email: parsed.data.supporter.email,
        recipientName: letter.recipient.name,
        pledged: !!parsed.data.pledge,
        share: shareLinks(deps.config),
      });
    })
    // "Send the link again", from the check-your-email page. Same answer whatever is held.
    .post("/write/resend", sameOriginOnly(), async (c) => {
      const deps = c.var.deps;
      const f = await readForm(c);
      const input = ResendConfirmationInput.safeParse({ email: one(f.email) });
      if (input.success) await resendConfirmation(deps, input.data);
      return render(c, "pages/journey/check-email", {
        title: "Check your email",
        kind: "letter",
        resent: true,
        email: input.success ? input.data.email : "",
        recipientName: one(f.recipientName).slice(0, 200) || "your MP",
        share: shareLinks(deps.config),
      });
    })
    // --- thank-you (linked from the confirmed page and emails) --------------------------------
    .get("/thanks", async (c) =>
      render(c, "pages/journey/thanks", {
        title: "Thank you",
        share: shareLinks(c.var.deps.config),
        counter: await pledgeCounter(c.var.deps),
      }),
    );
  // The site's own pledge pages live in modules/pledges; inside a frame the pledge is a step here.
  if (mode === "embed")
    pages
      .get("/pledge", (c) =>
        render(c, "pages/journey/pledge", {
          title: "Make your pledge",
          pledgeForm: pledgeFormView({
            campaign: c.var.deps.config.campaign,
            action: `${base}/pledge`,
            values: emptyPledgeForm(c.req.query("postcode")),
            hidden: c.var.embed?.fields,
            partnerConsent: partnerConsentFor(c),
          }),
        }),
      )
      .post("/pledge", async (c) => {
        const deps = c.var.deps;
        const f = await readForm(c);
        const values = {
          name: one(f.name),
          email: one(f.email),
          postcode: one(f.postcode),
          pledgeConsent: one(f.pledgeConsent),
          updatesConsent: one(f.updatesConsent),
          partnerConsent: one(f.partnerConsent),
        };
        const again = (errors: FieldError[], status: number) =>
          render(
            c,
            "pages/journey/pledge",
            {
              title: "Make your pledge",
              pledgeForm: pledgeFormView({
                campaign: c.var.deps.config.campaign,
                action: `${base}/pledge`,
                values,
                errors,
                hidden: c.var.embed?.fields,
                partnerConsent: partnerConsentFor(c),
              }),
              errors,
            },
            status,
          );
        const parsed = CreatePledgeInput.safeParse({
          ...values,
          partner: partnerOf(c),
          partnerConsent: partnerConsentValue(c, values.partnerConsent),
        });
        try {
          withinLimit(c);
          if (!parsed.success)
            return again(pledgeFieldErrors(parsed.error.issues), refusalStatus(parsed.error));
          await createPledge(deps, parsed.data);
        } catch (e) {
          if (!shownInForm(e)) throw e;
          retryHeader(c, e);
          return again([pledgeServiceError(e)], e.status);
        }
        return render(c, "pages/journey/check-email", {
          title: "Check your email",
          kind: "pledge",
          submitted: "pledge",
          email: parsed.data.email,
          share: shareLinks(deps.config),
        });
      });
  return pages;
}
