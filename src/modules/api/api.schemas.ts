/**
 * What the public JSON API answers, as zod schemas: with the request schemas the routes already
 * validate with, the one source of the OpenAPI document (api.openapi.ts). The tests check every
 * JSON response the route tests produce against these (tests/support/api-contract.ts), and the
 * type assertions at the end fail the build if a service's return type drifts from its schema.
 */
import { z } from "zod";
import { DEVOLVED_BODIES } from "../../db/schema.devolved";
import { LETTER_STATUSES, RECIPIENT_KINDS, REPLY_ANSWERS } from "../../db/schema.letters";
import { REP_KINDS } from "../../db/schema.pledges";
import { ERROR_CODES } from "../../lib/errors";

const Nullable = <T extends z.ZodType>(t: T) => t.nullable();

// --- problems ----------------------------------------------------------------------------------

/** RFC 9457 problem details, as src/http/problem.ts renders every error. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    requestId: z.string().optional(),
    /** validation_failed: each field and what is wrong with it. */
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    retryAfter: z.number().optional(),
  })
  .loose()
  .meta({ description: "RFC 9457 problem details with a stable `code`." });

// --- lookup ------------------------------------------------------------------------------------

const Constituency = z.object({ code: z.string(), name: z.string(), nation: z.string(), region: z.string() });
const PledgeStatus = z.enum(["pledged", "not_pledged"]);

export const SeatView = z.object({
  constituency: Constituency,
  seat: z.enum(["sitting", "vacant", "unknown"]),
  mp: Nullable(
    z.object({
      parliamentId: z.number().int().nullable(),
      name: z.string(),
      party: z.string().nullable(),
      contactable: z.boolean(),
      contactUrl: z.string().nullable(),
    }),
  ),
  election: Nullable(
    z.object({
      id: z.string(),
      candidates: z.array(
        z.object({
          personId: z.number().int(),
          name: z.string(),
          party: z.string().nullable(),
          contactable: z.boolean(),
        }),
      ),
    }),
  ),
  notice: z.object({ code: z.enum(["seat_vacant", "mp_unknown"]), detail: z.string() }).optional(),
  pledge: z
    .object({ mp: PledgeStatus.nullable(), candidates: z.record(z.string(), PledgeStatus) })
    .optional(),
});

const Area = z.object({
  code: z.string(),
  name: z.string(),
  nameCy: z.string().nullable(),
  seats: z.number().int(),
});
const DevolvedMember = z.object({
  id: z.number().int(),
  name: z.string(),
  party: z.string().nullable(),
  seat: z.enum(["constituency", "region"]),
  area: z.object({ code: z.string(), name: z.string() }),
  contactable: z.boolean(),
  contactUrl: z.string().nullable(),
  pledged: z.boolean(),
});

export const DevolvedView = z.object({
  body: z.enum(DEVOLVED_BODIES),
  bodyName: z.string(),
  role: z.string(),
  roleLong: z.string(),
  status: z.enum(["known", "choose", "unknown"]),
  source: z.enum(["postcode", "postcodes.io", "pairing", "westminster", "supporter"]).nullable(),
  constituency: Area.nullable(),
  region: Area.nullable(),
  members: z.array(DevolvedMember),
  regionalMembers: z.array(DevolvedMember),
  choices: z.array(z.object({ code: z.string(), name: z.string(), region: z.string().nullable() })),
  notice: z
    .object({
      code: z.enum(["near_boundary", "choose_area", "area_unknown", "area_unavailable"]),
      detail: z.string(),
    })
    .optional(),
  directoryUrl: z.string(),
});

export const LookupResult = SeatView.extend({
  postcode: z.string(),
  source: z.enum(["local", "cache", "postcodes.io"]),
  terminated: z.literal(true).optional(),
  devolved: DevolvedView.nullable(),
}).meta({ description: "A postcode's MP, candidates and devolved members." });

export const OutcodeResult = z
  .object({ outcode: z.string(), seats: z.array(SeatView) })
  .meta({ description: "The first half of a postcode: the seats it spans, to choose from." });

export const SearchResult = z
  .object({ query: z.string().optional(), results: z.array(SeatView) })
  .meta({ description: "Constituencies whose name contains `q`." });

export const LookupResponse = z.union([LookupResult, OutcodeResult, SearchResult]);

// --- letters -----------------------------------------------------------------------------------

export const LetterStatusView = z.object({
  id: z.string(),
  status: z.enum(LETTER_STATUSES),
  recipient: z.object({ kind: z.string(), name: z.string(), constituency: z.string() }),
  subject: z.string(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  stopped: z
    .object({ reason: z.enum(["member_left", "seat_vacant"]), newMp: z.string().nullable() })
    .optional(),
});

export const LetterPreview = z.object({
  recipient: z.object({
    kind: z.enum(RECIPIENT_KINDS),
    name: z.string(),
    contactable: z.boolean(),
    constituency: z.object({ code: z.string(), name: z.string() }),
  }),
  asks: z.array(z.string()),
  subject: z.string(),
  draft: z.string(),
  signoff: z.string(),
  text: z.string(),
  prompt: z.string().optional(),
});

const Skipped = z.array(z.object({ name: z.string(), role: z.string(), reason: z.string() }));

export const LettersPreview = z.object({
  nation: z.string(),
  constituency: z.object({ code: z.string(), name: z.string() }),
  letters: z.array(
    z.object({
      body: z.string(),
      key: z.enum(["uk_parliament", "devolved"]),
      bodyName: z.string(),
      role: z.string(),
      asks: z.array(z.string()),
      recipients: z.array(
        z.object({
          kind: z.enum(RECIPIENT_KINDS),
          personId: z.number().int().nullable(),
          name: z.string(),
          seat: z.string(),
          contactable: z.boolean(),
          greeting: z.string().nullable(),
        }),
      ),
      subject: z.string(),
      draft: z.string(),
      text: z.string(),
    }),
  ),
  skipped: Skipped,
  signoff: z.string(),
  prompt: z.string().optional(),
});

export const LetterGroupView = z.object({
  group: z.string(),
  letters: z.array(LetterStatusView),
  skipped: Skipped,
});

export const CheckEmail = z.object({ status: z.literal("check_email") });

export const LetterConfirmed = z.union([
  z.object({ id: z.string(), status: z.string(), recipientName: z.string(), alreadyConfirmed: z.boolean() }),
  z.object({
    id: z.string(),
    group: z.literal(true),
    status: z.string(),
    recipientName: z.string(),
    alreadyConfirmed: z.boolean(),
    letters: z.array(
      z.object({
        recipientName: z.string(),
        role: z.string(),
        status: z.string(),
        problem: z.string().nullable(),
      }),
    ),
  }),
]);

export const FollowupAnswered = z.object({ id: z.string(), answer: z.enum(REPLY_ANSWERS) });

export const ChaseSent = z.object({
  /** "already_sent": a chase for this letter went before (one per letter); nothing new is sent. */
  status: z.enum(["sent", "already_sent"]),
  recipientName: z.string(),
  /** The chase letter's own status (confirmed, held, sent ...). */
  letterStatus: z.string(),
});

// --- pledges and representatives ---------------------------------------------------------------

export const PledgeConfirmed = z.object({ status: z.literal("confirmed"), alreadyConfirmed: z.boolean() });

export const PledgeCounter = z.object({
  campaignId: z.string(),
  supporters: z.object({ total: z.number().int(), byNation: z.record(z.string(), z.number().int()) }),
  representatives: z.object({ verified: z.number().int() }),
});

export const PledgeWall = z.object({
  parties: z.array(
    z.object({
      party: z.string(),
      pledges: z.array(
        z.object({
          kind: z.enum(REP_KINDS),
          role: z.string(),
          name: z.string(),
          party: z.string().nullable(),
          constituency: z.object({ code: z.string(), name: z.string(), nation: z.string() }),
          verifiedAt: z.string(),
        }),
      ),
    }),
  ),
  total: z.number().int(),
});

/** A representative's pledge status (their address is never in it). */
export const RepresentativePledge = z.object({
  kind: z.enum(REP_KINDS),
  role: z.string(),
  personId: z.number().int(),
  electionId: z.string().nullable(),
  name: z.string(),
  party: z.string().nullable(),
  constituency: z.object({ code: z.string(), name: z.string() }),
  status: z.enum(["not_pledged", "requested", "verified"]),
});

export const PledgeLinkSent = z.object({ status: z.enum(["sent", "already_verified", "recently_sent"]) });

/** This document. */
export const OpenApiDocument = z
  .object({ openapi: z.string(), info: z.object({}).loose(), paths: z.record(z.string(), z.unknown()) })
  .loose();

// --- the services' return types must fit their schemas (a drift fails the typecheck) ----------

type Fits<T, S extends z.ZodType> = T extends z.input<S> ? true : false;
const fits = <T extends true>(_: T) => _;
fits<Fits<import("../lookup/lookup.service").LookupResult, typeof LookupResult>>(true);
fits<Fits<import("../lookup/lookup.service").OutcodeResult, typeof OutcodeResult>>(true);
fits<Fits<import("../lookup/lookup.service").SeatView, typeof SeatView>>(true);
fits<Fits<import("../letters/letters.service").LetterStatusView, typeof LetterStatusView>>(true);
fits<
  Fits<Awaited<ReturnType<typeof import("../letters/letters.service").previewLetter>>, typeof LetterPreview>
>(true);
fits<
  Fits<Awaited<ReturnType<typeof import("../letters/letters.group").previewLetters>>, typeof LettersPreview>
>(true);
fits<Fits<import("../letters/letters.group").LetterGroupView, typeof LetterGroupView>>(true);
fits<
  Fits<Awaited<ReturnType<typeof import("../letters/letters.service").confirmLetter>>, typeof LetterConfirmed>
>(true);
fits<
  Fits<
    Awaited<ReturnType<typeof import("../letters/letters.replies").answerFollowup>>,
    typeof FollowupAnswered
  >
>(true);
fits<Fits<Awaited<ReturnType<typeof import("../letters/letters.replies").sendChase>>, typeof ChaseSent>>(
  true,
);
fits<Fits<import("../pledges/pledges.service").PledgeCounter, typeof PledgeCounter>>(true);
fits<Fits<import("../pledges/pledges.service").PledgeWall, typeof PledgeWall>>(true);
fits<Fits<Omit<import("../pledges/pledges.service").RepTarget, "email">, typeof RepresentativePledge>>(true);
fits<
  Fits<
    Awaited<ReturnType<typeof import("../pledges/pledges.service").requestRepPledgeLink>>,
    typeof PledgeLinkSent
  >
>(true);
fits<
  Fits<Awaited<ReturnType<typeof import("../pledges/pledges.service").confirmPledge>>, typeof PledgeConfirmed>
>(true);
