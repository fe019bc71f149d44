/**
 * The OpenAPI 3.1 document of the public JSON API (/api/*), served at /api/openapi.json.
 *
 * Why zod's own `z.toJSONSchema` rather than @hono/zod-openapi: the routes already validate with
 * zod schemas through @hono/zod-validator, and zod 4 turns those very schemas into JSON Schema
 * 2020-12, which is OpenAPI 3.1's schema dialect. So the document is generated from the objects
 * the routes use, with no new dependency and no rewrite of every route into `createRoute` form
 * (which would also have changed the error handling the widget and forms rely on). The cost is
 * this table of operations, and tests keep it honest: every /api route in the app's routing
 * table must be in it, and every JSON response the route tests produce must match the schema
 * documented for its status (tests/support/api-contract.ts).
 *
 * Requests are described as clients send them (`io: "input"`: before defaults and transforms),
 * responses as we send them (`io: "output"`). Errors are problem+json (Problem) on every route.
 */
import { z } from "zod";
import type { Config } from "../../env";
import {
  ChaseInput,
  FollowupInput,
  IdempotencyKeyHeader,
  LetterIdParam,
  PreviewLetterInput,
  PreviewLettersInput,
  ResendConfirmationInput,
  SubmitLetterInput,
  SubmitLettersInput,
  TokenInput,
} from "../letters/letters.schemas";
import { ConstituencyCodeParam, LookupQuery } from "../lookup/lookup.schemas";
import { CreatePledgeInput } from "../pledges/pledges.schemas";
import { WidgetConfig, WidgetKeyParam } from "../widget/widget.schemas";
import {
  ChaseSent,
  CheckEmail,
  FollowupAnswered,
  LetterConfirmed,
  LetterGroupView,
  LetterPreview,
  LetterStatusView,
  LettersPreview,
  LookupResponse,
  OpenApiDocument,
  PledgeConfirmed,
  PledgeCounter,
  PledgeLinkSent,
  PledgeWall,
  Problem,
  RepresentativePledge,
  SeatView,
} from "./api.schemas";

type Response = { description: string; schema: z.ZodType };
export type Operation = {
  method: "get" | "post";
  /** As OpenAPI writes it: /api/letters/{id}. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  query?: z.ZodObject;
  params?: z.ZodObject;
  headers?: { name: string; schema: z.ZodType; description: string }[];
  body?: z.ZodType;
  /** Success statuses; every operation also answers problem+json for errors (`default`). */
  responses: Record<number, Response>;
};

const RepParams = z.object({
  kind: z.enum(["mp", "candidate", "msp", "ms", "mla"]),
  ref: z
    .string()
    .describe(
      "ONS code of the seat (mp), Democracy Club person id (candidate), or the lookup's devolved member id (msp, ms, mla)",
    ),
});

const idempotency = {
  name: "Idempotency-Key",
  schema: IdempotencyKeyHeader,
  description: "Makes a retried submit return the first letter instead of a second one.",
};

export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/lookup",
    tag: "Lookup",
    summary: "Find a postcode's MP, candidates and devolved members, or search constituencies",
    description:
      "Give `postcode` (any case and spacing; an outward code alone lists the seats it spans) or `q` (part of a constituency name).",
    query: LookupQuery,
    responses: {
      200: { description: "A lookup, an outward code's seats, or search results", schema: LookupResponse },
    },
  },
  {
    method: "get",
    path: "/api/constituencies/{code}",
    tag: "Lookup",
    summary: "One constituency, its MP and candidates",
    params: ConstituencyCodeParam,
    responses: { 200: { description: "The seat", schema: SeatView } },
  },
  {
    method: "post",
    path: "/api/letters/preview",
    tag: "Letters",
    summary: "Compose a letter to the MP (or a candidate) without saving anything",
    body: PreviewLetterInput,
    responses: { 200: { description: "The letter as it would be sent", schema: LetterPreview } },
  },
  {
    method: "post",
    path: "/api/letters",
    tag: "Letters",
    summary: "Submit a letter; it is sent once the supporter confirms from the emailed link",
    description: "Credited to `partner` only when called from one of that partner's allowed origins (CORS).",
    headers: [idempotency],
    body: SubmitLetterInput,
    responses: {
      201: { description: "Created, awaiting confirmation", schema: LetterStatusView },
      200: { description: "The same submission again: the first letter", schema: LetterStatusView },
    },
  },
  {
    method: "post",
    path: "/api/letters/group/preview",
    tag: "Letters",
    summary: "Compose letters to the MP and devolved members, each with the asks their parliament can act on",
    body: PreviewLettersInput,
    responses: { 200: { description: "One letter per parliament", schema: LettersPreview } },
  },
  {
    method: "post",
    path: "/api/letters/group",
    tag: "Letters",
    summary: "Submit letters to the MP and devolved members, confirmed by one link",
    headers: [idempotency],
    body: SubmitLettersInput,
    responses: {
      201: { description: "Created, awaiting confirmation", schema: LetterGroupView },
      200: { description: "The same submission again", schema: LetterGroupView },
    },
  },
  {
    method: "post",
    path: "/api/letters/resend-confirmation",
    tag: "Letters",
    summary: "Email the confirmation link of an address's unconfirmed letters again",
    body: ResendConfirmationInput,
    responses: { 202: { description: "The same answer whatever is held", schema: CheckEmail } },
  },
  {
    method: "post",
    path: "/api/letters/confirm",
    tag: "Letters",
    summary: "Confirm a letter (or a group of letters) with the token from the emailed link",
    body: TokenInput,
    responses: { 200: { description: "Confirmed (or already confirmed)", schema: LetterConfirmed } },
  },
  {
    method: "post",
    path: "/api/letters/followup",
    tag: "Letters",
    summary: "Say whether the representative replied",
    body: FollowupInput,
    responses: { 200: { description: "Recorded", schema: FollowupAnswered } },
  },
  {
    method: "post",
    path: "/api/letters/chase",
    tag: "Letters",
    summary:
      "Send the pre-filled follow-up (chase) letter, confirmed by the follow-up link's token; one per letter",
    body: ChaseInput,
    responses: { 200: { description: "Sent, or sent before", schema: ChaseSent } },
  },
  {
    method: "get",
    path: "/api/letters/{id}",
    tag: "Letters",
    summary: "A letter's status",
    params: LetterIdParam,
    responses: { 200: { description: "The letter's status", schema: LetterStatusView } },
  },
  {
    method: "post",
    path: "/api/pledges",
    tag: "Pledges",
    summary: "Pledge; it counts once the supporter confirms from the emailed link",
    body: CreatePledgeInput,
    responses: {
      202: { description: "The same answer whether or not the address had pledged", schema: CheckEmail },
    },
  },
  {
    method: "post",
    path: "/api/pledges/confirm",
    tag: "Pledges",
    summary: "Confirm a pledge with the token from the emailed link",
    body: TokenInput,
    responses: { 200: { description: "Confirmed (or already confirmed)", schema: PledgeConfirmed } },
  },
  {
    method: "get",
    path: "/api/pledges/counter",
    tag: "Pledges",
    summary: "Public counts: supporters' pledges by nation, representatives who pledged",
    responses: { 200: { description: "Counts (cached for a minute)", schema: PledgeCounter } },
  },
  {
    method: "get",
    path: "/api/pledges/wall",
    tag: "Pledges",
    summary: "The public wall of representatives who pledged, by party",
    responses: { 200: { description: "The wall (cached for a minute)", schema: PledgeWall } },
  },
  {
    method: "get",
    path: "/api/representatives/{kind}/{ref}/pledge",
    tag: "Pledges",
    summary: "Whether a representative has pledged",
    params: RepParams,
    responses: {
      200: { description: "The representative and their pledge status", schema: RepresentativePledge },
    },
  },
  {
    method: "post",
    path: "/api/representatives/{kind}/{ref}/pledge-link",
    tag: "Pledges",
    summary: "Email a representative their signed pledge link (to their official address only)",
    params: RepParams,
    responses: { 202: { description: "What happened", schema: PledgeLinkSent } },
  },
  {
    method: "get",
    path: "/api/widget/{key}",
    tag: "Widget",
    summary: "Whether a partner's widget is switched on, and its defaults (the loader asks this first)",
    description: "Readable from any origin; an unknown or switched-off key answers `{ enabled: false }`.",
    params: WidgetKeyParam,
    responses: { 200: { description: "The widget's state", schema: WidgetConfig } },
  },
  {
    method: "get",
    path: "/api/openapi.json",
    tag: "API",
    summary: "This document",
    responses: { 200: { description: "OpenAPI 3.1", schema: OpenApiDocument } },
  },
];

const jsonSchema = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
  return rest;
};

const parameters = (where: "query" | "path", object: z.ZodObject | undefined) =>
  Object.entries(object?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === "path" || !(schema as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(schema as z.ZodType, "input"),
  }));

let cached: { url: string; doc: object } | undefined;

export function openApiDocument(config: Pick<Config, "PUBLIC_URL" | "campaign">): object {
  if (cached?.url === config.PUBLIC_URL) return cached.doc;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses))
      responses[status] = {
        description: r.description,
        content: { "application/json": { schema: jsonSchema(r.schema, "output") } },
      };
    responses.default = {
      description: "An error: RFC 9457 problem details with a stable `code`",
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
    const pathItem = paths[op.path] ?? {};
    paths[op.path] = pathItem;
    pathItem[op.method] = {
      operationId: `${op.method}${op.path.replace(/[{}]/g, "").replace(/[/.-](\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      parameters: [
        ...parameters("path", op.params),
        ...parameters("query", op.query),
        ...(op.headers ?? []).map((h) => ({
          name: h.name,
          in: "header",
          required: false,
          description: h.description,
          schema: jsonSchema(h.schema, "input"),
        })),
      ],
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(op.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  const doc = {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: `${config.campaign.hashtag} API`,
      version: "1",
      description:
        "Find representatives by postcode, write letters and pledge: the JSON API behind the campaign's pages and partners' widgets. Every error is problem+json with a stable `code`. Limits per client address apply (429 with Retry-After).",
    },
    servers: [{ url: config.PUBLIC_URL }],
    tags: [{ name: "Lookup" }, { name: "Letters" }, { name: "Pledges" }, { name: "Widget" }, { name: "API" }],
    paths,
    components: { schemas: { Problem: jsonSchema(Problem, "output") } },
  };
  cached = { url: config.PUBLIC_URL, doc };
  return doc;
}

/** Hono's "/api/letters/:id" (or ":kind{mp|…}") as OpenAPI's "/api/letters/{id}". */
export const openApiPath = (honoPath: string) => honoPath.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

/** The operation a request is for (path with values, as requested), if documented. */
export function operationFor(method: string, path: string): Operation | undefined {
  return OPERATIONS.find((op) => {
    if (op.method !== method.toLowerCase()) return false;
    const re = new RegExp(`^${op.path.replace(/[.]/g, "\\.").replace(/\{\w+\}/g, "[^/]+")}$`);
    return re.test(path);
  });
}

/** The schema a response of `status` must match: a success documented for it, else Problem. */
export function responseSchema(op: Operation, status: number): z.ZodType | undefined {
  return status >= 400 ? Problem : op.responses[status]?.schema;
}
