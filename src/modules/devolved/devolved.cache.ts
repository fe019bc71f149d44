/**
 * This process's count of writes to what the devolved lookup keeps in memory (areas, links,
 * members, MSP/MS/MLA pledges): a write here calls `devolvedChanged`, and the next lookup in this
 * process reloads (devolved.lookup.ts `snapshot`). Other processes see the database's own
 * fingerprint change instead.
 */
import type { Deps } from "../../deps";

const generations = new WeakMap<object, number>();

export function devolvedChanged(deps: Pick<Deps, "db">): void {
  generations.set(deps.db, (generations.get(deps.db) ?? 0) + 1);
}

export const devolvedGeneration = (deps: Pick<Deps, "db">): number => generations.get(deps.db) ?? 0;
