/**
 * Letters JSON API: validated with zod, one verb per handler. Bodies are capped and checked
 * before this (src/http/body.ts), and limits per client address are middleware (app.ts).
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { AppError } from "../../lib/errors";
import { creditedPartner } from "../widget/widget.attribution";
import { previewLetters, submitLetters } from "./letters.group";
import { answerFollowup, sendChase } from "./letters.replies";
import {
  ChaseInput,
  FollowupInput,
  IdempotencyKeyHeader,
  LetterIdParam,
  PreviewLetterInput,
  PreviewLettersInput,
  ResendConfirmationInput,
  SubmitLetterInput,
  SubmitLettersInput,
  TokenInput,
} from "./letters.schemas";
import {
  confirmLetter,
  getLetterStatus,
  previewLetter,
  resendConfirmation,
  submitLetter,
} from "./letters.service";

/** The optional Idempotency-Key header, checked (8-100 characters of a safe set). */
function idempotencyKeyOf(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("idempotency-key");
  if (header === undefined) return undefined;
  const key = IdempotencyKeyHeader.safeParse(header);
  if (!key.success)
    throw new AppError("validation_failed", "Idempotency-Key: 8-100 characters: letters, digits, _ . : -");
  return key.data;
}

export const letterRoutes = new Hono<AppEnv>()
  .post("/api/letters/preview", validate("json", PreviewLetterInput), async (c) =>
    c.json(await previewLetter(c.var.deps, c.req.valid("json"))),
  )
  .post("/api/letters", validate("json", SubmitLetterInput), async (c) => {
    const input = c.req.valid("json");
    const partner = await creditedPartner(c, input.partner);
    const { letter, created } = await submitLetter(
      c.var.deps,
      { ...input, partner },
      { idempotencyKey: idempotencyKeyOf(c) },
    );
    return c.json(letter, created ? 201 : 200, { location: `/api/letters/${letter.id}` });
  })
  // Letters to the MP and the devolved members at once, each with the asks its parliament can
  // act on, confirmed by one link (letters.group.ts).
  .post("/api/letters/group/preview", validate("json", PreviewLettersInput), async (c) =>
    c.json(await previewLetters(c.var.deps, c.req.valid("json"))),
  )
  .post("/api/letters/group", validate("json", SubmitLettersInput), async (c) => {
    const input = c.req.valid("json");
    const partner = await creditedPartner(c, input.partner);
    const { group, created } = await submitLetters(
      c.var.deps,
      { ...input, partner },
      { idempotencyKey: idempotencyKeyOf(c) },
    );
    return c.json(group, created ? 201 : 200);
  })
  // "Send the link again". 202 whatever is held: the answer never says whether this address wrote.
  .post("/api/letters/resend-confirmation", validate("json", ResendConfirmationInput), async (c) =>
    c.json(await resendConfirmation(c.var.deps, c.req.valid("json")), 202),
  )
  .post("/api/letters/confirm", validate("json", TokenInput), async (c) =>
    c.json(await confirmLetter(c.var.deps, c.req.valid("json"))),
  )
  .post("/api/letters/followup", validate("json", FollowupInput), async (c) =>
    c.json(await answerFollowup(c.var.deps, c.req.valid("json"))),
  )
  // The pre-filled chase letter (letters.replies.ts), confirmed by the follow-up link's token.
  .post("/api/letters/chase", validate("json", ChaseInput), async (c) =>
    c.json(await sendChase(c.var.deps, c.req.valid("json"))),
  )
  .get("/api/letters/:id", validate("param", LetterIdParam), async (c) =>
    c.json(await getLetterStatus(c.var.deps, c.req.valid("param"))),
  );
