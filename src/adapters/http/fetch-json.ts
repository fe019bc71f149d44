/**
 * fetch with a per-attempt timeout and bounded retries. Retries only what can succeed on a
 * second try (network errors, timeouts, 429 and 5xx), with exponential backoff and full jitter
 * so a recovering upstream isn't hit by every client at once. Anything else is returned as is.
 */
import { AppError } from "../../lib/errors";

export type FetchOptions = {
  fetch?: typeof fetch;
  timeoutMs: number;
  retries: number;
  /** Name used in the error a user sees ("postcodes.io is not answering"). */
  service: string;
  /** Seconds a client should wait before trying again, sent as Retry-After on a 503. */
  retryAfterSeconds?: number;
  /** Accept header (JSON unless said otherwise; the Senedd's service answers XML). */
  accept?: string;
};

const BACKOFF_BASE_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function fetchWithRetry(url: string, opts: FetchOptions): Promise<Response> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  let lastProblem = "no attempt made";
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(Math.random() * BACKOFF_BASE_MS * 2 ** attempt);
    try {
      const res = await doFetch(url, {
        headers: { accept: opts.accept ?? "application/json", "user-agent": "speakup (+#SpeakUpForBabies)" },
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      if (res.status === 429 || res.status >= 500) {
        lastProblem = `HTTP ${res.status}`;
        discardBody(res);
        continue;
      }
      return res;
    } catch (e) {
      lastProblem = e instanceof Error && e.name === "TimeoutError" ? "timed out" : "network error";
    }
  }
  throw new AppError(
    "upstream_unavailable",
    `${opts.service} is not answering (${lastProblem}). Please try again shortly.`,
    { retryAfter: opts.retryAfterSeconds ?? 30 },
  );
}

/**
 * Release a response body we won't read, so the connection goes back to the pool. Not awaited:
 * `body.cancel()` can stay pending forever on some streams (a tee'd or intercepted body, e.g.
 * mswjs/interceptors#799), and a lookup must never wait on a body it has no use for.
 */
export function discardBody(res: Response): void {
  res.body?.cancel().catch(() => {});
}

export async function readJson(res: Response, service: string): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new AppError("upstream_unavailable", `${service} sent an unreadable answer.`, { retryAfter: 30 });
  }
}
