/**
 * Request bodies, for every route, before any handler sees them.
 *
 * Rules:
 * - One size limit (BODY_LIMIT_KB) on every route and method. A Content-Length over it is refused
 *   without reading a byte; a body without one (chunked) is read only up to the limit, so memory
 *   stays flat whatever is sent (Hono's bodyLimit buffers at most maxSize). 413 problem+json.
 * - A body that claims to be JSON or a form and can't be read as one is a 400 here, with a code,
 *   instead of an exception inside a handler (a 500 and a stack trace in the log). The parse is of
 *   a copy; handlers parse the buffered body again as they always have.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../lib/errors";
import type { AppEnv } from "./types";

export const bodyGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  // GET and HEAD bodies are never read by anything (fetch forbids them), and touching
  // `c.req.raw.body` makes @hono/node-server build a full Request for every lookup: a quarter
  // of its CPU. Every other method goes through the limit.
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  const maxKb = c.var.deps.config.BODY_LIMIT_KB;
  const limited = bodyLimit({
    maxSize: maxKb * 1024,
    onError: () => {
      // The rest of an oversized upload is not worth reading: let the connection go after this.
      c.header("connection", "close");
      throw new AppError("payload_too_large", `Requests are limited to ${maxKb} KB.`);
    },
  });
  return limited(c, async () => {
    await checkParseable(c.req.raw);
    await next();
  });
};

async function checkParseable(req: Request): Promise<void> {
  if (!req.body) return;
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  const isForm =
    type.startsWith("multipart/form-data") || type.startsWith("application/x-www-form-urlencoded");
  const isJson = /^application\/(?:[\w.+-]+\+)?json\b/.test(type);
  if (!isForm && !isJson) return;
  const copy = req.clone();
  try {
    if (isForm) await copy.formData();
    else {
      const text = await copy.text();
      if (text.trim()) JSON.parse(text);
    }
  } catch {
    throw new AppError(
      "malformed_body",
      isForm
        ? "The form data could not be read. Please reload the page and try again."
        : "The JSON body is not valid JSON.",
    );
  }
}
