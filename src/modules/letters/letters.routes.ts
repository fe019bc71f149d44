/**
 * Letters JSON API. Bodies are capped before parsing (413 even for chunked uploads without a
 * Content-Length), then validated with zod; handlers call one verb each.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { AppError } from "../../lib/errors";
import {
  FollowupInput,
  IdempotencyKeyHeader,
  LetterIdParam,
  PreviewLetterInput,
  SubmitLetterInput,
  TokenInput,
} from "./letters.schemas";
import {
  answerFollowup,
  confirmLetter,
  getLetterStatus,
  previewLetter,
  submitLetter,
} from "./letters.service";

/** A long letter with a story is a few KB; 64 KB leaves room and stops abuse early. */
export const LETTER_BODY_LIMIT = 64 * 1024;

export const letterBodyLimit = bodyLimit({
  maxSize: LETTER_BODY_LIMIT,
  onError: () => {
    throw new AppError("payload_too_large", `Requests here are limited to ${LETTER_BODY_LIMIT / 1024} KB.`);
  },
});

/**
 * The client's address for per-IP limits: the socket's on Node (never a spoofable header),
 * Cloudflare's CF-Connecting-IP on Workers (set by the edge).
 */
export function clientIp(c: Context<AppEnv>): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? c.req.header("cf-connecting-ip") ?? undefined;
}

export const letterRoutes = new Hono<AppEnv>()
  .use("/api/letters/*", letterBodyLimit)
  .use("/api/letters", letterBodyLimit)
  .post("/api/letters/preview", validate("json", PreviewLetterInput), async (c) =>
    c.json(await previewLetter(c.var.deps, c.req.valid("json"))),
  )
  .post("/api/letters", validate("json", SubmitLetterInput), async (c) => {
    const header = c.req.header("idempotency-key");
    const key = header === undefined ? undefined : IdempotencyKeyHeader.safeParse(header);
    if (key && !key.success)
      throw new AppError("validation_failed", "Idempotency-Key: 8-100 characters: letters, digits, _ . : -");
    const { letter, created } = await submitLetter(c.var.deps, c.req.valid("json"), {
      ip: clientIp(c),
      idempotencyKey: key?.data,
    });
    return c.json(letter, created ? 201 : 200, { location: `/api/letters/${letter.id}` });
  })
  .post("/api/letters/confirm", validate("json", TokenInput), async (c) =>
    c.json(await confirmLetter(c.var.deps, c.req.valid("json"))),
  )
  .post("/api/letters/followup", validate("json", FollowupInput), async (c) =>
    c.json(await answerFollowup(c.var.deps, c.req.valid("json"))),
  )
  .get("/api/letters/:id", validate("param", LetterIdParam), async (c) =>
    c.json(await getLetterStatus(c.var.deps, c.req.valid("param"))),
  );
