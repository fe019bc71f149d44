/** JSON API for pledges. Public counts are cacheable for a minute: they change slowly. */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { AppError } from "../../lib/errors";
import { creditedPartner } from "../widget/widget.attribution";
import { CreatePledgeInput, RepRef, TokenInput } from "./pledges.schemas";
import {
  confirmPledge,
  createPledge,
  pledgeCounter,
  pledgeWall,
  repTarget,
  requestRepPledgeLink,
} from "./pledges.service";

const PUBLIC_CACHE = "public, max-age=60";

export const pledgeRoutes = new Hono<AppEnv>()
  .post("/api/pledges", validate("json", CreatePledgeInput), async (c) => {
    const input = c.req.valid("json");
    // Credited to a partner only when called from one of that partner's pages (CORS).
    const partner = await creditedPartner(c, input.partner);
    return c.json(await createPledge(c.var.deps, { ...input, partner }), 202);
  })
  .post("/api/pledges/confirm", validate("json", TokenInput), async (c) =>
    c.json(await confirmPledge(c.var.deps, c.req.valid("json"))),
  )
  .get("/api/pledges/counter", async (c) => {
    c.header("cache-control", PUBLIC_CACHE);
    return c.json(await pledgeCounter(c.var.deps));
  })
  .get("/api/pledges/wall", async (c) => {
    c.header("cache-control", PUBLIC_CACHE);
    return c.json(await pledgeWall(c.var.deps));
  })
  .get("/api/representatives/:kind/:ref/pledge", async (c) => {
    const ref = parseRepRef(c.req.param("kind"), c.req.param("ref"));
    const { email: _omit, ...target } = await repTarget(c.var.deps, ref);
    return c.json(target);
  })
  .post("/api/representatives/:kind/:ref/pledge-link", async (c) => {
    const ref = parseRepRef(c.req.param("kind"), c.req.param("ref"));
    return c.json(await requestRepPledgeLink(c.var.deps, ref), 202);
  });

/** /mp/E14001063, /candidate/12345, /msp/42 -> a RepRef; anything else is "no such representative". */
export function parseRepRef(kind: string, ref: string): RepRef {
  const parsed = RepRef.safeParse(kind === "mp" ? { kind, code: ref } : { kind, personId: ref });
  if (!parsed.success)
    throw new AppError("representative_not_found", "We have no such representative on record.");
  return parsed.data;
}
