/**
 * Delivery's HTTP side: the mail provider's bounce webhook. Thin: the raw body (the signature
 * covers it byte for byte) goes to the verb; problem+json for a bad signature.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../http/types";
import { AppError } from "../../lib/errors";
import { resendWebhook } from "./delivery.webhooks";

/** A bounce event is a few KB; Svix retries anything we refuse, so refuse only what is absurd. */
const WEBHOOK_BODY_LIMIT = 256 * 1024;

export const deliveryRoutes = new Hono<AppEnv>().post(
  "/webhooks/resend",
  bodyLimit({
    maxSize: WEBHOOK_BODY_LIMIT,
    onError: () => {
      throw new AppError("payload_too_large", "Webhook bodies are limited to 256 KB.");
    },
  }),
  async (c) => {
    const answer = await resendWebhook(c.var.deps, {
      body: await c.req.text(),
      headers: {
        id: c.req.header("svix-id"),
        timestamp: c.req.header("svix-timestamp"),
        signature: c.req.header("svix-signature"),
      },
    });
    if (answer.status === 503) c.header("retry-after", "60");
    return c.json({ result: answer.result }, answer.status);
  },
);
