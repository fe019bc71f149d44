/**
 * Circuit breakers for upstream services (postcodes.io, the Members API), as wrappers around the
 * clients, so the clients themselves stay simple.
 *
 * Rules:
 * - Closed: calls go through. UPSTREAM_BREAKER_FAILURES calls in a row that end in
 *   `upstream_unavailable` (each already retried with backoff by fetch-json) open the breaker.
 * - Open: calls fail at once with `upstream_unavailable` and a Retry-After of the time left, for
 *   UPSTREAM_BREAKER_COOLDOWN_SECONDS. A struggling service gets a rest instead of every visitor's
 *   retries, and visitors get an answer in microseconds instead of after every timeout.
 * - Half-open: after the cool-down one call is let through as a probe (others still fail fast):
 *   success closes the breaker, failure opens it again for another cool-down.
 * - Only upstream failures count. Answers like "no such postcode" are successes; bugs are not the
 *   upstream's fault. Lookups answered from local data never reach the breaker at all.
 * - State is per process (per isolate on Workers): each instance protects the service from itself.
 */
import type { Clock, Logger, MemberSource, PostcodeSource } from "../../deps";
import type { Config } from "../../env";
import { AppError, isAppError } from "../../lib/errors";

export type BreakerOptions = { failures: number; cooldownMs: number; clock: Clock; logger?: Logger };

export const breakerOptions = (
  config: Pick<Config, "UPSTREAM_BREAKER_FAILURES" | "UPSTREAM_BREAKER_COOLDOWN_SECONDS">,
  clock: Clock,
  logger?: Logger,
): BreakerOptions => ({
  failures: config.UPSTREAM_BREAKER_FAILURES,
  cooldownMs: config.UPSTREAM_BREAKER_COOLDOWN_SECONDS * 1000,
  clock,
  logger,
});

export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    readonly service: string,
    private readonly opts: BreakerOptions,
  ) {}

  get state(): BreakerState {
    if (this.openUntil === 0) return "closed";
    return this.opts.clock.now() < this.openUntil || this.probing ? "open" : "half-open";
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.opts.clock.now();
    let probe = false;
    if (this.openUntil !== 0) {
      if (now < this.openUntil || this.probing) throw this.fastFail(now);
      this.probing = probe = true;
    }
    try {
      const result = await call();
      if (this.openUntil !== 0 || this.failures) this.close();
      return result;
    } catch (e) {
      if (isAppError(e) && e.code === "upstream_unavailable") this.failed(probe);
      throw e;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private failed(probe: boolean) {
    this.failures++;
    if (probe || this.failures >= this.opts.failures) {
      const reopened = this.openUntil !== 0;
      this.openUntil = this.opts.clock.now() + this.opts.cooldownMs;
      if (!reopened)
        this.opts.logger?.warn("circuit breaker opened", { service: this.service, failures: this.failures });
    }
  }

  private close() {
    if (this.openUntil !== 0) this.opts.logger?.info("circuit breaker closed", { service: this.service });
    this.failures = 0;
    this.openUntil = 0;
  }

  private fastFail(now: number): AppError {
    const seconds = Math.max(1, Math.ceil((this.openUntil - now) / 1000));
    return new AppError(
      "upstream_unavailable",
      `${this.service} is not answering, so we're giving it a rest. Please try again in ${seconds} seconds.`,
      { retryAfter: seconds, breaker: "open" },
    );
  }
}

/**
 * `source` with every method behind one breaker for `service`. Generic on purpose: a method added
 * to a client later is protected without touching this file.
 */
export function withBreaker<S extends object>(
  service: string,
  source: S,
  opts: BreakerOptions,
): S & { breaker: CircuitBreaker } {
  const breaker = new CircuitBreaker(service, opts);
  const wrapped: Record<string, unknown> = { breaker };
  for (const [name, value] of Object.entries(source))
    wrapped[name] =
      typeof value === "function"
        ? (...args: unknown[]) => breaker.run(async () => value.apply(source, args))
        : value;
  return wrapped as S & { breaker: CircuitBreaker };
}

export const postcodeSourceBreaker = (source: PostcodeSource, opts: BreakerOptions) =>
  withBreaker("postcodes.io", source, opts);

export const memberSourceBreaker = (source: MemberSource, opts: BreakerOptions) =>
  withBreaker("the UK Parliament Members API", source, opts);
