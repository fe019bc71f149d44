/**
 * zod validation for routes (@hono/zod-validator) with one failure shape: a problem listing each
 * field and what is wrong with it. `text_too_long` (422) when the only problem is text over its
 * length (the request was well-formed, the content too much); `validation_failed` (400) otherwise.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodError, ZodType } from "zod";
import { AppError } from "../lib/errors";
import { isTooLong } from "../lib/fields";
import { zodIssues } from "./problem";

export const validate = <T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      const error = result.error as unknown as ZodError;
      const errors = zodIssues(error);
      throw new AppError(
        onlyTooLong(error) ? "text_too_long" : "validation_failed",
        errors.map((e) => e.message).join("; "),
        { errors },
      );
    }
  });

/** Every issue is a text field over its length (lib/fields.ts). */
export const onlyTooLong = (error: ZodError) => error.issues.length > 0 && error.issues.every(isTooLong);
