/**
 * A postcode's devolved representatives: who sits for it in the Scottish Parliament, the Senedd
 * or the Northern Ireland Assembly, and how sure we are of the area.
 *
 * Rules:
 * - Scotland: Holyrood constituencies don't nest in Westminster seats, so only a postcode-level
 *   answer will do: our postcode_areas table (the Scottish Postcode Directory, imported), else
 *   postcodes.io's /scotland endpoint (cached), else the constituency the supporter chooses. An
 *   unknown area is said plainly ("unknown", with the list to choose from); the MP is still
 *   answered. Only 2026 codes we hold are trusted: a 2014 answer is treated as no answer.
 * - Wales: each Senedd constituency is the union of two 2024 seats, so the seat's pairing
 *   answers, unless the postcode's own answer (imported, or postcodes.io's `senedd_constituency`)
 *   says otherwise. A postcode whose postcode district also has postcodes paired with another
 *   Senedd constituency is flagged as near a boundary, with both to choose from.
 * - Northern Ireland: the Assembly sits on the 2010 boundaries. A 2024 seat that takes in parts
 *   of more than one Assembly constituency asks the supporter to choose (status "choose").
 * - Failures upstream never fail the lookup: the devolved part says it couldn't tell.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { prepared } from "../../db/prepared";
import * as schema from "../../db/schema";
import {
  type DevolvedBody,
  devolvedAreaLinks,
  devolvedAreas,
  devolvedMembers,
  lookupCache,
  postcodeAreas,
  repPledges,
} from "../../db/schema";
import type { Deps, RemoteHolyroodAreas } from "../../deps";
import { isAppError } from "../../lib/errors";
import { nameKey } from "../lookup/lookup.import";
import { BODY_INFO, devolvedBodyOf } from "./devolved.bodies";

/** A "not in the Scottish directory" answer is reused for an hour (a new postcode appears in weeks). */
const NEGATIVE_CACHE_MS = 60 * 60 * 1000;

export type DevolvedSource = "postcode" | "postcodes.io" | "pairing" | "westminster" | "supporter";

export type DevolvedMemberView = {
  /** Ours (devolved_members.id): letters and pledges name the member by it. */
  id: number;
  name: string;
  party: string | null;
  seat: "constituency" | "region";
  area: { code: string; name: string };
  /** We hold an official email address, so letters can be sent. */
  contactable: boolean;
  /** Their official page (or the parliament's list of members). */
  contactUrl: string | null;
  /** Has signed the #SpeakUpForBabies pledge (verified). */
  pledged: boolean;
};

export type AreaView = { code: string; name: string; nameCy: string | null; seats: number };
export type AreaChoice = { code: string; name: string; region: string | null };

export type DevolvedView = {
  body: DevolvedBody;
  bodyName: string;
  role: string;
  roleLong: string;
  /** known: we know the area. choose: the supporter must pick one of `choices`. unknown: we can't tell. */
  status: "known" | "choose" | "unknown";
  source: DevolvedSource | null;
  constituency: AreaView | null;
  /** Scotland: the Holyrood region (7 list MSPs). */
  region: AreaView | null;
  /** The constituency's members: 1 MSP, 6 MSs or 5 MLAs. */
  members: DevolvedMemberView[];
  /** Scotland: the region's 7 list MSPs (one can be written to, at the supporter's choice). */
  regionalMembers: DevolvedMemberView[];
  /** Areas to choose from (status choose/unknown, or a postcode near a boundary). */
  choices: AreaChoice[];
  notice?: { code: "near_boundary" | "choose_area" | "area_unknown" | "area_unavailable"; detail: string };
  /** The parliament's own list of members, for anyone we can't help further. */
  directoryUrl: string;
};

type Input = {
  /** Normalised postcode, or null when only the seat is known (a constituency page). */
  postcode: string | null;
  westminster: { code: string; name: string; nation: string };
  /** An area the supporter chose (from `choices`). */
  area?: string;
  /** The postcode's Senedd constituency by name, when postcodes.io answered the lookup. */
  remoteSenedd?: string | null;
};

type AreaRow = {
  code: string;
  name: string;
  nameCy: string | null;
  seats: number;
  kind: string;
  regionCode: string | null;
};

const areaColumns = {
  code: devolvedAreas.code,
  name: devolvedAreas.name,
  nameCy: devolvedAreas.nameCy,
  seats: devolvedAreas.seats,
  kind: devolvedAreas.kind,
  regionCode: devolvedAreas.regionCode,
};

const postcodeAreasStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.postcodeAreas", (db) =>
    db
      .select()
      .from(postcodeAreas)
      .where(eq(postcodeAreas.postcode, sql.placeholder("postcode")))
      .prepare(),
  );

const linksStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.links", (db) =>
    db
      .select({ ...areaColumns, share: devolvedAreaLinks.share })
      .from(devolvedAreaLinks)
      .innerJoin(devolvedAreas, eq(devolvedAreas.code, devolvedAreaLinks.areaCode))
      .where(eq(devolvedAreaLinks.westminsterCode, sql.placeholder("code")))
      .orderBy(
        sql`case ${devolvedAreaLinks.share} when 'whole' then 0 when 'most' then 1 else 2 end`,
        asc(devolvedAreas.name),
      )
      .prepare(),
  );

async function area(deps: Deps, code: string | null | undefined): Promise<AreaRow | undefined> {
  if (!code) return undefined;
  const [row] = await deps.db.select(areaColumns).from(devolvedAreas).where(eq(devolvedAreas.code, code));
  return row;
}

const view = (a: AreaRow): AreaView => ({ code: a.code, name: a.name, nameCy: a.nameCy, seats: a.seats });

async function membersOf(
  deps: Deps,
  body: DevolvedBody,
  areas: AreaRow[],
): Promise<Map<string, DevolvedMemberView[]>> {
  const out = new Map<string, DevolvedMemberView[]>(areas.map((a) => [a.code, []]));
  if (!areas.length) return out;
  const rows = await deps.db
    .select({
      id: devolvedMembers.id,
      name: devolvedMembers.name,
      party: devolvedMembers.party,
      email: devolvedMembers.email,
      contactUrl: devolvedMembers.contactUrl,
      areaCode: devolvedMembers.areaCode,
    })
    .from(devolvedMembers)
    .where(
      and(
        eq(devolvedMembers.body, body),
        inArray(
          devolvedMembers.areaCode,
          areas.map((a) => a.code),
        ),
      ),
    )
    .orderBy(asc(devolvedMembers.name));
  const pledged = new Set(
    rows.length
      ? (
          await deps.db
            .select({ personId: repPledges.personId })
            .from(repPledges)
            .where(
              and(
                eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
                eq(repPledges.kind, BODY_INFO[body].repKind),
                eq(repPledges.status, "verified"),
                inArray(
                  repPledges.personId,
                  rows.map((r) => r.id),
                ),
              ),
            )
        ).map((r) => r.personId)
      : [],
  );
  const byCode = new Map(areas.map((a) => [a.code, a]));
  for (const r of rows) {
    const a = byCode.get(r.areaCode);
    if (!a) continue;
    out.get(r.areaCode)?.push({
      id: r.id,
      name: r.name,
      party: r.party,
      seat: a.kind === "region" ? "region" : "constituency",
      area: { code: a.code, name: a.name },
      contactable: r.email !== null,
      contactUrl: r.contactUrl,
      pledged: pledged.has(r.id),
    });
  }
  return out;
}

function base(body: DevolvedBody): DevolvedView {
  const info = BODY_INFO[body];
  return {
    body,
    bodyName: info.shortName,
    role: info.role,
    roleLong: info.roleLong,
    status: "unknown",
    source: null,
    constituency: null,
    region: null,
    members: [],
    regionalMembers: [],
    choices: [],
    directoryUrl: info.directoryUrl,
  };
}

async function known(
  deps: Deps,
  body: DevolvedBody,
  constituency: AreaRow,
  region: AreaRow | undefined,
  source: DevolvedSource,
): Promise<DevolvedView> {
  const areas = region ? [constituency, region] : [constituency];
  const members = await membersOf(deps, body, areas);
  return {
    ...base(body),
    status: "known",
    source,
    constituency: view(constituency),
    region: region ? view(region) : null,
    members: members.get(constituency.code) ?? [],
    regionalMembers: region ? (members.get(region.code) ?? []) : [],
  };
}

const bodyLoadedStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.bodyLoaded", (db) =>
    db
      .select({ code: devolvedAreas.code })
      .from(devolvedAreas)
      .where(eq(devolvedAreas.body, sql.placeholder("body")))
      .limit(1)
      .prepare(),
  );

export async function devolvedForSeat(deps: Deps, input: Input): Promise<DevolvedView | null> {
  const body = devolvedBodyOf(input.westminster.nation);
  if (!body) return null;
  // A database without this parliament's areas (loaded by the seed from data/devolved/) can't
  // answer, and nothing upstream would help it: say nothing rather than something wrong.
  if (!(await bodyLoadedStmt(deps).get({ body }))) return null;
  const local = input.postcode
    ? ((await postcodeAreasStmt(deps).get({ postcode: input.postcode })) as
        | typeof postcodeAreas.$inferSelect
        | undefined)
    : undefined;
  if (body === "scottish_parliament") return holyrood(deps, input, local);
  if (body === "senedd") return senedd(deps, input, local);
  return assembly(deps, input, local);
}

// --- Scotland ---------------------------------------------------------------------------------

async function holyroodChoices(deps: Deps): Promise<AreaChoice[]> {
  const regions = new Map(
    (
      await deps.db
        .select({ code: devolvedAreas.code, name: devolvedAreas.name })
        .from(devolvedAreas)
        .where(and(eq(devolvedAreas.body, "scottish_parliament"), eq(devolvedAreas.kind, "region")))
    ).map((r) => [r.code, r.name]),
  );
  const rows = await deps.db
    .select({ code: devolvedAreas.code, name: devolvedAreas.name, regionCode: devolvedAreas.regionCode })
    .from(devolvedAreas)
    .where(and(eq(devolvedAreas.body, "scottish_parliament"), eq(devolvedAreas.kind, "constituency")))
    .orderBy(asc(devolvedAreas.name));
  return rows.map((r) => ({
    code: r.code,
    name: r.name,
    region: r.regionCode ? (regions.get(r.regionCode) ?? null) : null,
  }));
}

async function holyrood(
  deps: Deps,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): Promise<DevolvedView> {
  const body = "scottish_parliament" as const;
  const inScotland = (a: AreaRow | undefined, kind: "constituency" | "region") =>
    a && a.kind === kind && a.code.startsWith(kind === "constituency" ? "S16" : "S17") ? a : undefined;
  // 1. The postcode's own row (Scottish Postcode Directory, imported).
  const localC = inScotland(await area(deps, local?.holyroodConstituency), "constituency");
  if (localC) return known(deps, body, localC, await area(deps, localC.regionCode), "postcode");
  // 2. The constituency the supporter chose.
  const chosen = inScotland(await area(deps, input.area), "constituency");
  if (chosen) return known(deps, body, chosen, await area(deps, chosen.regionCode), "supporter");
  // 3. postcodes.io (the 2026 directory), cached.
  let unavailable = false;
  if (input.postcode && deps.config.REMOTE_LOOKUP) {
    try {
      const remote = await remoteHolyrood(deps, input.postcode);
      if (remote.kind === "found") {
        const c = await matchHolyrood(deps, remote);
        if (c) return known(deps, body, c, await area(deps, c.regionCode), "postcodes.io");
      }
    } catch (e) {
      if (!isAppError(e) || e.code !== "upstream_unavailable") throw e;
      unavailable = true;
      deps.logger.warn("postcodes.io unavailable for the Holyrood lookup; answering without it", {
        detail: e.detail,
      });
    }
  }
  return {
    ...base(body),
    status: "unknown",
    choices: await holyroodChoices(deps),
    notice: unavailable
      ? {
          code: "area_unavailable",
          detail:
            "We couldn't reach the postcode service to find your Scottish Parliament constituency just now. You can choose it from the list, try again later, or write to your MP now.",
        }
      : {
          code: "area_unknown",
          detail: `We don't know which Scottish Parliament constituency ${input.postcode ?? "this postcode"} is in (Holyrood constituencies don't follow the Westminster ones). If you know it, choose it from the list; you can still write to your MP.`,
        },
  };
}

async function remoteHolyrood(deps: Deps, pc: string): Promise<RemoteHolyroodAreas> {
  const key = `holyrood:${pc}`;
  const now = deps.clock.now();
  const [hit] = await deps.db.select().from(lookupCache).where(eq(lookupCache.key, key)).limit(1);
  if (hit && hit.expiresAt > now) return hit.value as RemoteHolyroodAreas;
  const answer = await deps.postcodeSource.holyrood(pc);
  const ttl =
    answer.kind === "not_found" ? NEGATIVE_CACHE_MS : deps.config.LOOKUP_CACHE_TTL_HOURS * 3_600_000;
  await deps.db
    .insert(lookupCache)
    .values({ key, value: answer, expiresAt: now + ttl })
    .onConflictDoUpdate({ target: lookupCache.key, set: { value: answer, expiresAt: now + ttl } });
  return answer;
}

/**
 * postcodes.io's answer as one of our 2026 constituencies: by code when it gives one (a code we
 * don't hold is an older boundary set: no answer), else by name. A region that disagrees with the
 * constituency's is ignored (the constituency fixes the region).
 */
async function matchHolyrood(deps: Deps, r: Extract<RemoteHolyroodAreas, { kind: "found" }>) {
  if (r.constituencyCode) {
    const a = await area(deps, r.constituencyCode);
    return a && a.kind === "constituency" && a.code.startsWith("S16") ? a : undefined;
  }
  if (!r.constituencyName) return undefined;
  const rows = await deps.db
    .select(areaColumns)
    .from(devolvedAreas)
    .where(and(eq(devolvedAreas.body, "scottish_parliament"), eq(devolvedAreas.kind, "constituency")));
  return rows.find((a) => nameKey(a.name) === nameKey(r.constituencyName ?? ""));
}

// --- Wales ------------------------------------------------------------------------------------

async function senedd(
  deps: Deps,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): Promise<DevolvedView> {
  const body = "senedd" as const;
  const isSenedd = (a: AreaRow | undefined) => (a?.code.startsWith("W09") ? a : undefined);
  const localA = isSenedd(await area(deps, local?.senedd));
  if (localA) return known(deps, body, localA, undefined, "postcode");
  const links = (await linksStmt(deps).all({ code: input.westminster.code })) as (AreaRow & {
    share: string;
  })[];
  const paired = links.find((l) => l.share === "whole") ?? links[0];
  const chosen = isSenedd(await area(deps, input.area));
  if (chosen) return known(deps, body, chosen, undefined, "supporter");
  // postcodes.io's own answer for the postcode (ONS's best fit for the Senedd boundary).
  if (input.remoteSenedd) {
    const all = await deps.db.select(areaColumns).from(devolvedAreas).where(eq(devolvedAreas.body, "senedd"));
    const key = nameKey(input.remoteSenedd);
    const remote = all.find((a) => nameKey(a.name) === key || (a.nameCy && nameKey(a.nameCy) === key));
    if (remote) {
      const v = await known(deps, body, remote, undefined, "postcodes.io");
      if (paired && paired.code !== remote.code)
        return {
          ...v,
          choices: [remote, paired].map((a) => ({ code: a.code, name: a.name, region: null })),
          notice: {
            code: "near_boundary",
            detail: `${input.postcode} is near the edge of ${input.westminster.name}: for the Senedd it is in ${remote.name}, not ${paired.name} like most of the seat. If that's wrong, choose the other.`,
          },
        };
      return v;
    }
  }
  if (!paired)
    return {
      ...base(body),
      notice: {
        code: "area_unknown",
        detail: `We don't know the Senedd constituency of ${input.westminster.name}.`,
      },
    };
  const v = await known(deps, body, paired, undefined, "pairing");
  const neighbours = input.postcode ? await otherSeneddInDistrict(deps, input.postcode, paired.code) : [];
  if (!neighbours.length) return v;
  return {
    ...v,
    choices: [paired, ...neighbours].map((a) => ({ code: a.code, name: a.name, region: null })),
    notice: {
      code: "near_boundary",
      detail: `Your postcode district straddles Senedd constituencies: ${input.westminster.name} is in ${paired.name}, but nearby postcodes are in ${neighbours.map((n) => n.name).join(" and ")}. If you live on the other side, choose it.`,
    },
  };
}

/**
 * Senedd constituencies other than `paired` that postcodes of the same postcode district (in our
 * postcode table) fall in through their Westminster seats: the sign of a nearby boundary.
 */
async function otherSeneddInDistrict(deps: Deps, postcode: string, paired: string): Promise<AreaRow[]> {
  const outcode = postcode.split(" ")[0] ?? postcode;
  const rows = await deps.db
    .selectDistinct(areaColumns)
    .from(schema.postcodes)
    .innerJoin(devolvedAreaLinks, eq(devolvedAreaLinks.westminsterCode, schema.postcodes.constituencyCode))
    .innerJoin(devolvedAreas, eq(devolvedAreas.code, devolvedAreaLinks.areaCode))
    .where(
      and(
        sql`${schema.postcodes.postcode} >= ${`${outcode} `} and ${schema.postcodes.postcode} < ${`${outcode}!`}`,
        eq(schema.postcodes.terminated, false),
        eq(devolvedAreas.body, "senedd"),
        sql`${devolvedAreas.code} <> ${paired}`,
      ),
    )
    .orderBy(asc(devolvedAreas.name))
    .limit(5);
  return rows;
}

// --- Northern Ireland -------------------------------------------------------------------------

async function assembly(
  deps: Deps,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): Promise<DevolvedView> {
  const body = "ni_assembly" as const;
  const isAssembly = (a: AreaRow | undefined) => (a?.code.startsWith("N06") ? a : undefined);
  const localA = isAssembly(await area(deps, local?.assembly));
  if (localA) return known(deps, body, localA, undefined, "postcode");
  const links = (await linksStmt(deps).all({ code: input.westminster.code })) as (AreaRow & {
    share: string;
  })[];
  const chosen = links.find((l) => l.code === input.area);
  if (chosen) return known(deps, body, chosen, undefined, links.length > 1 ? "supporter" : "westminster");
  const [only, ...more] = links;
  if (!only)
    return {
      ...base(body),
      notice: {
        code: "area_unknown",
        detail: `We don't know the Assembly constituency of ${input.westminster.name}.`,
      },
    };
  if (!more.length) return known(deps, body, only, undefined, "westminster");
  return {
    ...base(body),
    status: "choose",
    choices: links.map((a) => ({ code: a.code, name: a.name, region: null })),
    notice: {
      code: "choose_area",
      detail: `The Assembly was elected on the older (2010) boundaries, and ${input.westminster.name} takes in parts of ${links.length} Assembly constituencies: ${links.map((l) => l.name).join(", ")}. Which one do you live in? (Most of the seat is in ${only.name}.)`,
    },
  };
}
