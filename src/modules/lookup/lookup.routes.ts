import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { parseOutcode, parsePostcode } from "../../lib/postcode";
import { ConstituencyCodeParam, LookupQuery } from "./lookup.schemas";
import { getSeat, lookupOutcode, lookupPostcode, searchConstituencies } from "./lookup.service";

export const lookupRoutes = new Hono<AppEnv>()
  .get("/api/lookup", validate("query", LookupQuery), async (c) => {
    const { postcode, q, seat, area } = c.req.valid("query");
    if (postcode !== undefined) {
      // An outward code alone answers with the seats it spans, to choose from.
      if (!parsePostcode(postcode) && parseOutcode(postcode))
        return c.json(await lookupOutcode(c.var.deps, { outcode: postcode }));
      return c.json(await lookupPostcode(c.var.deps, { postcode, seat, area }));
    }
    return c.json({ query: q, results: await searchConstituencies(c.var.deps, { q: q ?? "" }) });
  })
  .get("/api/constituencies/:code", validate("param", ConstituencyCodeParam), async (c) =>
    c.json(await getSeat(c.var.deps, { code: c.req.valid("param").code })),
  );
