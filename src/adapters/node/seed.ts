/**
 * Start-up seed: an empty database gets data/ (650 constituencies, their MPs, sample postcodes)
 * so `npm start` answers real lookups on a fresh machine. The test seat is ensured every time.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Deps } from "../../deps";
import { countRows, ensureTestSeat } from "../../modules/lookup/lookup.import";
import { importConstituenciesCsv, importMembersJson, importPostcodesCsv } from "./importers";

export async function seed(deps: Deps, dataDir: string) {
  const before = await countRows(deps);
  if (before.constituencies <= 1) {
    const file = (name: string) => resolve(dataDir, name);
    if (existsSync(file("constituencies.csv")))
      await importConstituenciesCsv(deps, file("constituencies.csv"));
    if (existsSync(file("members.json"))) await importMembersJson(deps, file("members.json"));
    if (existsSync(file("postcodes-sample.csv")))
      await importPostcodesCsv(deps, file("postcodes-sample.csv"));
  }
  await ensureTestSeat(deps);
  return countRows(deps);
}
