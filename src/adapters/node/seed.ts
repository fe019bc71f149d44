/**
 * Start-up seed: an empty database gets data/ (650 constituencies, the sitting MPs with their
 * official addresses, real postcodes, and the MSPs, MSs and MLAs with their areas) so `npm start`
 * answers real lookups, offline, on a fresh machine. The test seat is ensured every time.
 *
 * A database seeded before MPs were kept current (from the old election-day snapshot, with no
 * addresses) is brought up to data/mps.csv once, through the same members import: its
 * by-elections and party changes land in the change log. After that the members sync keeps it
 * current, and the seed never overwrites what a sync wrote.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Deps } from "../../deps";
import { countRows, ensureTestSeat } from "../../modules/lookup/lookup.import";
import { recordByElections } from "../../modules/members/members.history";
import { everSynced, importMembers } from "../../modules/members/members.sync";
import {
  importConstituenciesCsv,
  importPostcodesCsv,
  readFormerMembersCsv,
  readMembersCsv,
  seedDevolved,
} from "./importers";

export async function seed(deps: Deps, dataDir: string) {
  const file = (name: string) => resolve(dataDir, name);
  const has = (name: string) => existsSync(file(name));
  const before = await countRows(deps);
  const fresh = before.constituencies <= 1;
  if (fresh && has("constituencies.csv")) await importConstituenciesCsv(deps, file("constituencies.csv"));
  if (has("mps.csv") && !(await everSynced(deps))) {
    const outcome = await importMembers(deps, await readMembersCsv(file("mps.csv")), {
      trigger: "seed",
      source: "data/mps.csv",
      baseline: true,
    });
    // A new database learns the by-elections from the files; an old one saw them as changes.
    if (before.members <= 1 && has("mps-former.csv"))
      await recordByElections(deps, {
        syncId: outcome.syncId,
        formers: await readFormerMembersCsv(file("mps-former.csv")),
      });
    if (has("postcodes.csv")) await importPostcodesCsv(deps, file("postcodes.csv"));
  }
  await ensureTestSeat(deps);
  // MSPs, MSs and MLAs, their areas, and how those relate to the Westminster seats.
  await seedDevolved(deps, dataDir);
  return countRows(deps);
}
