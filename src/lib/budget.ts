/**
 * A query budget: how many database queries one unit of background work (a Worker's cron run,
 * one queue batch) may still make. D1 allows 1,000 queries per Worker invocation on the Paid
 * plan and 50 on Free (QUERY_BUDGET, src/env.ts); going over fails the invocation part-way.
 *
 * The Workers adapter counts every query and every statement of a batch against the budget of
 * the invocation it belongs to (src/adapters/workers/d1-budget.ts); jobs ask `left()` before each
 * step and stop, leaving the rest for the next run, while they can still finish cleanly. On Node
 * nothing limits queries and jobs run with `unlimited`.
 */
export interface QueryBudget {
  /** Queries that may still be made. */
  left(): number;
  /** Queries made so far. */
  spent(): number;
  /** Count `n` queries (the counting adapter calls this). */
  charge(n?: number): void;
}

export function queryBudget(limit: number): QueryBudget {
  let spent = 0;
  return {
    left: () => limit - spent,
    spent: () => spent,
    charge(n = 1) {
      spent += n;
    },
  };
}

/** No limit (Node, the CLI, tests that don't measure). */
export const unlimited: QueryBudget = { left: () => Number.POSITIVE_INFINITY, spent: () => 0, charge() {} };

/** Whether `cost` more queries fit, keeping `reserve` for the job's closing steps. */
export const affords = (budget: QueryBudget, cost: number, reserve = 0) => budget.left() - reserve >= cost;
