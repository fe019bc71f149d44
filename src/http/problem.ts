/**
 * RFC 9457 problem documents. One renderer for every error the app returns, so every failure
 * has `type`, `title`, `status`, a stable `code` and the `requestId` to quote to support.
 * Unknown errors are logged with their stack and shown as a plain 500 without internals.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { dbFault, unavailable } from "../db/guard";
import { AppError, ERROR_CODES, type ErrorCode } from "../lib/errors";
import { describeError } from "../lib/safe-error";
import type { AppEnv } from "./types";

export const PROBLEM_TYPE_BASE = "https://speakup.invalid/problems/";

export function problemBody(err: AppError, requestId: string | undefined) {
  return {
    type: PROBLEM_TYPE_BASE + err.code,
    title: err.title,
    status: err.status,
    detail: err.detail ?? err.title,
    code: err.code,
    requestId,
    ...err.extra,
  };
}

export function problemResponse(c: Context<AppEnv>, err: AppError): Response {
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  const retryAfter = err.extra.retryAfter;
  if (typeof retryAfter === "number") headers["retry-after"] = String(Math.ceil(retryAfter));
  return c.body(
    JSON.stringify(problemBody(err, c.get("requestId"))),
    err.status as ContentfulStatusCode,
    headers,
  );
}

/**
 * Field-level messages from a zod error, keyed by dotted path, for `errors` in the problem body:
 * each a sentence (the schemas' messages are written to be joined, so start lower-case).
 */
export function zodIssues(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: i.path.join("."),
    message: i.message.charAt(0).toUpperCase() + i.message.slice(1),
  }));
}

function fromHttpException(e: HTTPException): AppError {
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: "validation_failed",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
  };
  const code = byStatus[e.status] ?? "internal";
  return new AppError(code, e.message || ERROR_CODES[code].title);
}

/** Browsers asking for a page get an HTML error page; API clients get problem+json. */
function wantsHtml(c: Context<AppEnv>): boolean {
  return !c.req.path.startsWith("/api/") && (c.req.header("accept") ?? "").includes("text/html");
}

function render(c: Context<AppEnv>, err: AppError): Response {
  const templates = c.get("deps")?.templates;
  if (wantsHtml(c) && templates?.has("pages/error")) {
    const html = templates.render("pages/error", {
      title: err.title,
      problem: problemBody(err, c.get("requestId")),
    });
    return c.html(html, err.status as ContentfulStatusCode);
  }
  return problemResponse(c, err);
}

/** Errors for the log without personal data (kept here for existing importers). */
export { describeError };

export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof AppError) return render(c, err);
  if (err instanceof HTTPException) return render(c, fromHttpException(err));
  const deps = c.get("deps");
  // Lock exhausted, disk full, read-only, I/O: 503 with Retry-After, never a 500.
  const fault = dbFault(err);
  if (fault) {
    deps?.logger.warn("database unavailable", { requestId: c.get("requestId"), path: c.req.path, fault });
    return render(c, unavailable(fault));
  }
  deps?.logger.error("unhandled error", {
    requestId: c.get("requestId"),
    path: c.req.path,
    error: describeError(err),
  });
  return render(c, new AppError("internal", "An unexpected error occurred. Please try again."));
}
