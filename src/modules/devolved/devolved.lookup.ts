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
 * - Cost: the areas, links, members and their pledges are a few hundred rows that change once a
 *   day at most, so each process (or Worker isolate) keeps them in memory (`snapshot`) and checks
 *   one cheap fingerprint per lookup (row counts, latest change times, the postcode table's last
 *   rowid); a sync, an import or a verified pledge changes it and the next lookup reloads them.
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
import { devolvedGeneration } from "./devolved.cache";

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

type MemberRow = {
  id: number;
  name: string;
  party: string | null;
  email: string | null;
  contactUrl: string | null;
  areaCode: string;
  body: DevolvedBody;
};

/** Everything a devolved lookup reads but the postcode's own row, as of `fingerprint`. */
type Snapshot = {
  fingerprint: string;
  areas: Map<string, AreaRow>;
  bodies: Set<string>;
  /** Westminster seat -> its devolved areas, whole before most before part, then by name. */
  links: Map<string, (AreaRow & { share: string })[]>;
  /** Area -> its members, by name. */
  members: Map<string, MemberRow[]>;
  /** Verified pledges of the campaign: "msp:12". */
  pledged: Set<string>;
  holyroodChoices: AreaChoice[];
  /** Postcode district + paired area -> the other Senedd areas its postcodes fall in. */
  districts: Map<string, AreaRow[]>;
};

const snapshots = new WeakMap<object, Snapshot>();

const fingerprintStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.fingerprint", (db) =>
    db
      .select({
        f: sql<string>`(select count(*) from ${devolvedAreas}) || ':' ||
          (select count(*) from ${devolvedAreaLinks}) || ':' ||
          (select count(*) || ':' || coalesce(max(${devolvedMembers.updatedAt}), 0) from ${devolvedMembers}) || ':' ||
          (select count(*) || ':' || coalesce(max(${repPledges.verifiedAt}), 0) from ${repPledges}
             where ${repPledges.status} = 'verified' and ${repPledges.kind} in ('msp', 'ms', 'mla')) || ':' ||
          (select coalesce(max(rowid), 0) from ${schema.postcodes})`,
      })
      .from(sql`(select 1)`)
      .prepare(),
  );

async function loadSnapshot(deps: Deps, fingerprint: string): Promise<Snapshot> {
  const areaRows = await deps.db.select({ ...areaColumns, body: devolvedAreas.body }).from(devolvedAreas);
  const areas = new Map<string, AreaRow>(areaRows.map((a) => [a.code, a]));
  const shareRank = (share: string) => (share === "whole" ? 0 : share === "most" ? 1 : 2);
  const links = new Map<string, (AreaRow & { share: string })[]>();
  for (const l of await deps.db.select().from(devolvedAreaLinks)) {
    const a = areas.get(l.areaCode);
    if (!a) continue;
    const list = links.get(l.westminsterCode) ?? [];
    list.push({ ...a, share: l.share });
    links.set(l.westminsterCode, list);
  }
  for (const list of links.values())
    list.sort((x, y) => shareRank(x.share) - shareRank(y.share) || x.name.localeCompare(y.name));
  const members = new Map<string, MemberRow[]>();
  const memberRows = await deps.db
    .select({
      id: devolvedMembers.id,
      name: devolvedMembers.name,
      party: devolvedMembers.party,
      email: devolvedMembers.email,
      contactUrl: devolvedMembers.contactUrl,
      areaCode: devolvedMembers.areaCode,
      body: devolvedMembers.body,
    })
    .from(devolvedMembers)
    .orderBy(asc(devolvedMembers.name));
  for (const m of memberRows) {
    const list = members.get(m.areaCode) ?? [];
    list.push(m);
    members.set(m.areaCode, list);
  }
  const pledgeRows = await deps.db
    .select({ kind: repPledges.kind, personId: repPledges.personId })
    .from(repPledges)
    .where(
      and(
        eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
        eq(repPledges.status, "verified"),
        inArray(repPledges.kind, ["msp", "ms", "mla"]),
      ),
    );
  const regionName = (code: string | null) => (code ? (areas.get(code)?.name ?? null) : null);
  const holyroodChoices = areaRows
    .filter((a) => a.body === "scottish_parliament" && a.kind === "constituency")
    .sort((x, y) => x.name.localeCompare(y.name))
    .map((a) => ({ code: a.code, name: a.name, region: regionName(a.regionCode) }));
  return {
    fingerprint,
    areas,
    bodies: new Set(areaRows.map((a) => a.body)),
    links,
    members,
    pledged: new Set(pledgeRows.map((p) => `${p.kind}:${p.personId}`)),
    holyroodChoices,
    districts: new Map(),
  };
}

/** The in-memory reference data, reloaded when the fingerprint says it changed. */
async function snapshot(deps: Deps): Promise<Snapshot> {
  const row = (await fingerprintStmt(deps).get()) as { f: string } | undefined;
  const fingerprint = `${devolvedGeneration(deps)}|${row?.f ?? ""}`;
  const held = snapshots.get(deps.db);
  if (held && held.fingerprint === fingerprint) return held;
  const fresh = await loadSnapshot(deps, fingerprint);
  snapshots.set(deps.db, fresh);
  return fresh;
}

const view = (a: AreaRow): AreaView => ({ code: a.code, name: a.name, nameCy: a.nameCy, seats: a.seats });

function membersOf(snap: Snapshot, body: DevolvedBody, a: AreaRow): DevolvedMemberView[] {
  const kind = BODY_INFO[body].repKind;
  return (snap.members.get(a.code) ?? [])
    .filter((m) => m.body === body)
    .map((m) => ({
      id: m.id,
      name: m.name,
      party: m.party,
      seat: a.kind === "region" ? "region" : "constituency",
      area: { code: a.code, name: a.name },
      contactable: m.email !== null,
      contactUrl: m.contactUrl,
      pledged: snap.pledged.has(`${kind}:${m.id}`),
    }));
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

function known(
  snap: Snapshot,
  body: DevolvedBody,
  constituency: AreaRow,
  region: AreaRow | undefined,
  source: DevolvedSource,
): DevolvedView {
  return {
    ...base(body),
    status: "known",
    source,
    constituency: view(constituency),
    region: region ? view(region) : null,
    members: membersOf(snap, body, constituency),
    regionalMembers: region ? membersOf(snap, body, region) : [],
  };
}

export async function devolvedForSeat(deps: Deps, input: Input): Promise<DevolvedView | null> {
  const body = devolvedBodyOf(input.westminster.nation);
  if (!body) return null;
  // A database without this parliament's areas (loaded by the seed from data/devolved/) can't
  // answer, and nothing upstream would help it: say nothing rather than something wrong.
  const snap = await snapshot(deps);
  if (!snap.bodies.has(body)) return null;
  const local = input.postcode
    ? ((await postcodeAreasStmt(deps).get({ postcode: input.postcode })) as
        | typeof postcodeAreas.$inferSelect
        | undefined)
    : undefined;
  if (body === "scottish_parliament") return holyrood(deps, snap, input, local);
  if (body === "senedd") return senedd(deps, snap, input, local);
  return assembly(snap, input, local);
}

// --- Scotland ---------------------------------------------------------------------------------

async function holyrood(
  deps: Deps,
  snap: Snapshot,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): Promise<DevolvedView> {
  const body = "scottish_parliament" as const;
  const inScotland = (a: AreaRow | undefined, kind: "constituency" | "region") =>
    a && a.kind === kind && a.code.startsWith(kind === "constituency" ? "S16" : "S17") ? a : undefined;
  // 1. The postcode's own row (Scottish Postcode Directory, imported).
  const area = (code: string | null | undefined) => (code ? snap.areas.get(code) : undefined);
  const localC = inScotland(area(local?.holyroodConstituency), "constituency");
  if (localC) return known(snap, body, localC, area(localC.regionCode), "postcode");
  // 2. The constituency the supporter chose.
  const chosen = inScotland(area(input.area), "constituency");
  if (chosen) return known(snap, body, chosen, area(chosen.regionCode), "supporter");
  // 3. postcodes.io (the 2026 directory), cached.
  let unavailable = false;
  if (input.postcode && deps.config.REMOTE_LOOKUP) {
    try {
      const remote = await remoteHolyrood(deps, input.postcode);
      if (remote.kind === "found") {
        const c = matchHolyrood(snap, remote);
        if (c) return known(snap, body, c, area(c.regionCode), "postcodes.io");
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
    choices: snap.holyroodChoices,
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

const cacheStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.cache", (db) =>
    db
      .select()
      .from(lookupCache)
      .where(eq(lookupCache.key, sql.placeholder("key")))
      .limit(1)
      .prepare(),
  );

async function remoteHolyrood(deps: Deps, pc: string): Promise<RemoteHolyroodAreas> {
  const key = `holyrood:${pc}`;
  const now = deps.clock.now();
  const hit = (await cacheStmt(deps).get({ key })) as typeof lookupCache.$inferSelect | undefined;
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
function matchHolyrood(snap: Snapshot, r: Extract<RemoteHolyroodAreas, { kind: "found" }>) {
  const isConstituency = (a: AreaRow | undefined) =>
    a && a.kind === "constituency" && a.code.startsWith("S16") ? a : undefined;
  if (r.constituencyCode) return isConstituency(snap.areas.get(r.constituencyCode));
  if (!r.constituencyName) return undefined;
  const key = nameKey(r.constituencyName);
  return [...snap.areas.values()].find((a) => isConstituency(a) && nameKey(a.name) === key);
}

// --- Wales ------------------------------------------------------------------------------------

async function senedd(
  deps: Deps,
  snap: Snapshot,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): Promise<DevolvedView> {
  const body = "senedd" as const;
  const isSenedd = (a: AreaRow | undefined) => (a?.code.startsWith("W09") ? a : undefined);
  const area = (code: string | null | undefined) => (code ? snap.areas.get(code) : undefined);
  const localA = isSenedd(area(local?.senedd));
  if (localA) return known(snap, body, localA, undefined, "postcode");
  const links = snap.links.get(input.westminster.code) ?? [];
  const paired = links.find((l) => l.share === "whole") ?? links[0];
  const chosen = isSenedd(area(input.area));
  if (chosen) return known(snap, body, chosen, undefined, "supporter");
  // postcodes.io's own answer for the postcode (ONS's best fit for the Senedd boundary).
  if (input.remoteSenedd) {
    const key = nameKey(input.remoteSenedd);
    const remote = [...snap.areas.values()].find(
      (a) => isSenedd(a) && (nameKey(a.name) === key || (a.nameCy && nameKey(a.nameCy) === key)),
    );
    if (remote) {
      const v = known(snap, body, remote, undefined, "postcodes.io");
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
  const v = known(snap, body, paired, undefined, "pairing");
  const neighbours = input.postcode
    ? await otherSeneddInDistrict(deps, snap, input.postcode, paired.code)
    : [];
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
async function otherSeneddInDistrict(
  deps: Deps,
  snap: Snapshot,
  postcode: string,
  paired: string,
): Promise<AreaRow[]> {
  const outcode = postcode.split(" ")[0] ?? postcode;
  const key = `${outcode}|${paired}`;
  const held = snap.districts.get(key);
  if (held) return held;
  const rows = (await districtStmt(deps).all({
    from: `${outcode} `,
    to: `${outcode}!`,
    paired,
  })) as AreaRow[];
  // A few hundred Welsh postcode districts at most: kept until the postcode table changes.
  if (snap.districts.size < 5000) snap.districts.set(key, rows);
  return rows;
}

const districtStmt = (deps: Deps) =>
  prepared(deps.db, "devolved.district", (db) =>
    db
      .selectDistinct(areaColumns)
      .from(schema.postcodes)
      .innerJoin(devolvedAreaLinks, eq(devolvedAreaLinks.westminsterCode, schema.postcodes.constituencyCode))
      .innerJoin(devolvedAreas, eq(devolvedAreas.code, devolvedAreaLinks.areaCode))
      .where(
        and(
          sql`${schema.postcodes.postcode} >= ${sql.placeholder("from")} and ${schema.postcodes.postcode} < ${sql.placeholder("to")}`,
          eq(schema.postcodes.terminated, false),
          eq(devolvedAreas.body, "senedd"),
          sql`${devolvedAreas.code} <> ${sql.placeholder("paired")}`,
        ),
      )
      .orderBy(asc(devolvedAreas.name))
      .limit(5)
      .prepare(),
  );

// --- Northern Ireland -------------------------------------------------------------------------

function assembly(
  snap: Snapshot,
  input: Input,
  local: typeof postcodeAreas.$inferSelect | undefined,
): DevolvedView {
  const body = "ni_assembly" as const;
  const isAssembly = (a: AreaRow | undefined) => (a?.code.startsWith("N06") ? a : undefined);
  const localA = isAssembly(local?.assembly ? snap.areas.get(local.assembly) : undefined);
  if (localA) return known(snap, body, localA, undefined, "postcode");
  const links = snap.links.get(input.westminster.code) ?? [];
  const chosen = links.find((l) => l.code === input.area);
  if (chosen) return known(snap, body, chosen, undefined, links.length > 1 ? "supporter" : "westminster");
  const [only, ...more] = links;
  if (!only)
    return {
      ...base(body),
      notice: {
        code: "area_unknown",
        detail: `We don't know the Assembly constituency of ${input.westminster.name}.`,
      },
    };
  if (!more.length) return known(snap, body, only, undefined, "westminster");
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
