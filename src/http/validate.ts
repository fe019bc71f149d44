/**
 * zod validation for routes (@hono/zod-validator) with one failure shape: a
 * `validation_failed` problem listing each field and what is wrong with it.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { AppError } from "../lib/errors";
import { zodIssues } from "./problem";

export const validate = <T extends ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = zodIssues(result.error as unknown as import("zod").ZodError);
      throw new AppError("validation_failed", errors.map((e) => e.message).join("; "), { errors });
    }
  });
