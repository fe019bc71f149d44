/**
 * The Senedd's members, from its Modern.gov web service:
 * `GET {base}/mgwebservice.asmx/GetCouncillorsByWard` (the lowercase path; the mixed-case one is
 * refused by the Senedd's firewall). XML, every Member grouped by "ward" (= Senedd constituency):
 *
 *   <councillorsbyward><wards><ward><wardtitle>Afan Ogwr Rhondda</wardtitle>
 *     <councillors><councillor><councillorid>12147</councillorid>
 *       <fullusername>Dan Thomas MS</fullusername>
 *       <politicalpartytitle>Reform UK</politicalpartytitle> ...
 *       <workaddress><line1>…</line1>…<email>…</email></workaddress>
 *       <homeaddress>…</homeaddress> <termsofoffice>…</termsofoffice>
 *     </councillor>…</councillors></ward>…</wards></councillorsbyward>
 *
 * Only the member's id, name, party, constituency and their *work* email are read (never the
 * home address). Names carry the post-nominal ("… MS", Welsh "… AS"), dropped here. A member's
 * page is `mgUserInfo.aspx?UID={councillorid}` on the same service.
 */
import { XMLParser } from "fast-xml-parser";
import { z } from "zod";
import type { DevolvedMemberSource, RemoteDevolvedMember } from "../../deps";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry } from "./fetch-json";

const SERVICE = "the Senedd's members service";

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  // One ward or one councillor is still a list.
  isArray: (name) => name === "ward" || name === "councillor",
});

const Text = z.union([z.string(), z.number()]).transform(String).optional();
const Councillor = z
  .object({
    councillorid: Text,
    fullusername: Text,
    politicalpartytitle: Text,
    workaddress: z.union([z.object({ email: Text }).loose(), z.literal("")]).optional(),
  })
  .loose();
const Ward = z
  .object({
    wardtitle: Text,
    councillors: z
      .union([z.object({ councillor: z.array(Councillor).optional() }).loose(), z.literal("")])
      .optional(),
  })
  .loose();
const Doc = z.object({
  councillorsbyward: z.object({
    wards: z.union([z.object({ ward: z.array(Ward).optional() }).loose(), z.literal("")]),
  }),
});

/** "Dan Thomas MS", "Elin Jones AS" -> "Dan Thomas", "Elin Jones". */
export const msName = (full: string) =>
  full
    .replace(/\s+/g, " ")
    .trim()
    .replace(/\s+(MS|AS|MS\/AS|AS\/MS)$/i, "")
    .trim();

/** The members in a GetCouncillorsByWard answer (also used for a saved file). */
export function parseCouncillorsByWard(xml: string, base: string): RemoteDevolvedMember[] {
  let raw: unknown;
  try {
    raw = parser.parse(xml);
  } catch {
    throw new AppError("upstream_unavailable", `${SERVICE} sent XML that could not be read.`, {
      retryAfter: 300,
    });
  }
  const doc = Doc.safeParse(raw);
  if (!doc.success)
    throw new AppError("upstream_unavailable", `${SERVICE} sent an answer in an unexpected shape.`, {
      retryAfter: 300,
    });
  const wards = doc.data.councillorsbyward.wards === "" ? [] : (doc.data.councillorsbyward.wards.ward ?? []);
  const out: RemoteDevolvedMember[] = [];
  const seen = new Set<number>();
  for (const ward of wards) {
    const area = (ward.wardtitle ?? "").trim();
    const councillors =
      ward.councillors === "" || !ward.councillors ? [] : (ward.councillors.councillor ?? []);
    for (const c of councillors) {
      const name = msName(c.fullusername ?? "");
      if (!name || !area) continue;
      const id = Number.parseInt(c.councillorid ?? "", 10);
      const sourceId = Number.isSafeInteger(id) && id > 0 ? id : null;
      if (sourceId !== null) {
        if (seen.has(sourceId)) continue;
        seen.add(sourceId);
      }
      const work = c.workaddress === "" ? undefined : c.workaddress;
      const email = work?.email?.trim();
      out.push({
        sourceId,
        name,
        party: c.politicalpartytitle?.trim() || null,
        areaName: area,
        areaKind: "constituency",
        email: email && z.email().safeParse(email).success ? email : null,
        contactUrl: sourceId === null ? null : `${base}/mgUserInfo.aspx?UID=${sourceId}`,
      });
    }
  }
  return out;
}

export function seneddApi(baseUrl: string, opts: Omit<FetchOptions, "service">): DevolvedMemberSource {
  const base = baseUrl.replace(/\/$/, "");
  return {
    async allCurrent() {
      const res = await fetchWithRetry(`${base}/mgwebservice.asmx/GetCouncillorsByWard`, {
        ...opts,
        service: SERVICE,
        accept: "text/xml, application/xml",
      });
      if (res.status !== 200) {
        discardBody(res);
        throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${res.status}.`, {
          retryAfter: 300,
        });
      }
      let text: string;
      try {
        text = await res.text();
      } catch {
        throw new AppError("upstream_unavailable", `${SERVICE} sent an unreadable answer.`, {
          retryAfter: 300,
        });
      }
      const members = parseCouncillorsByWard(text, base);
      if (members.length === 0)
        throw new AppError("upstream_unavailable", `${SERVICE} listed no Members of the Senedd.`, {
          retryAfter: 3600,
        });
      return members;
    },
  };
}
