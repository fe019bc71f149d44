/**
 * A D1 binding that counts what it runs against a query budget (lib/budget.ts): one per prepared
 * statement executed, one per statement of a batch (D1 counts each toward the per-invocation
 * limit). Background invocations (cron, queue batches) get their own counted binding, so their
 * jobs know how much room is left; requests use the plain binding.
 */
import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import type { QueryBudget } from "../../lib/budget";

export function countedD1(db: D1Database, budget: QueryBudget): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (s: D1PreparedStatement): D1PreparedStatement => {
    const counted = {
      bind: (...values: unknown[]) => wrap(s.bind(...values)),
      first: (column?: string) => {
        budget.charge();
        return column === undefined ? s.first() : s.first(column);
      },
      run: () => {
        budget.charge();
        return s.run();
      },
      all: () => {
        budget.charge();
        return s.all();
      },
      raw: (options?: { columnNames?: boolean }) => {
        budget.charge();
        return s.raw(options as { columnNames: true });
      },
    };
    real.set(counted, s);
    return counted as unknown as D1PreparedStatement;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          budget.charge(statements.length);
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      if (prop === "exec")
        return (query: string) => {
          budget.charge();
          return target.exec(query);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
