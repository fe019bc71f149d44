/**
 * Server-rendered pledge pages; they work without JavaScript. Every link from an email opens
 * a page with a button (GET never changes state: mail scanners follow links), and the button
 * POSTs. A failed form re-renders with the supporter's input and messages linked to fields.
 */
import { Hono } from "hono";
import type { Deps } from "../../deps";
import { withinLimit } from "../../http/rate-limit";
import type { AppEnv } from "../../http/types";
import { isAppError } from "../../lib/errors";
import { verifyToken } from "../../lib/tokens";
import { shareLinks } from "../journey/journey.share";
import { partnerConsentField, pendingConsentFor, withdrawConsent } from "../partners/partners.consent";
import { attributionFor, verifyAttribution } from "../widget/widget.attribution";
import { getPartner } from "../widget/widget.service";
import {
  emptyPledgeForm,
  type FieldError,
  pledgeFieldErrors,
  pledgeFormView,
  pledgeServiceError,
} from "./pledges.form";
import { parseRepRef } from "./pledges.routes";
import { CreatePledgeInput } from "./pledges.schemas";
import {
  confirmPledge,
  createPledge,
  PURPOSE,
  pledgeCounter,
  pledgeForToken,
  pledgeWall,
  repPledgeForToken,
  repTarget,
  requestRepPledgeLink,
  verifyRepPledge,
} from "./pledges.service";

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The pledge a confirm link names (its public id), as the consent ticked with it is recorded. */
const pledgeRef = async (deps: Deps, token: string) =>
  (await verifyToken(deps.config, token, PURPOSE.confirm, deps.clock.now())).subject;

export const pledgePages = new Hono<AppEnv>()
  .get("/pledge", async (c) => {
    const deps = c.var.deps;
    // A partner's link (/pledge?partner=KEY) is credited only when followed from their own site.
    const attribution = await attributionFor(c, c.req.query("partner"), c.req.query("attr"));
    return c.html(
      deps.templates.render("pages/pledges/form", {
        title: "Make your pledge",
        pledgeForm: pledgeFormView({
          campaign: c.var.deps.config.campaign,
          action: "/pledge",
          values: emptyPledgeForm(c.req.query("postcode")),
          hidden: attribution ? [{ name: "attr", value: attribution.token }] : [],
          // Arriving from a partner's site: the separate box asking to hear from that partner.
          partnerConsent: partnerConsentField(
            attribution && (await getPartner(deps, { key: attribution.partner })),
          ),
        }),
        counter: await pledgeCounter(deps),
      }),
    );
  })
  .post("/pledge", async (c) => {
    const deps = c.var.deps;
    const body = await c.req.parseBody();
    const attr = str(body.attr);
    const form = {
      name: str(body.name),
      email: str(body.email),
      postcode: str(body.postcode),
      pledgeConsent: str(body.pledgeConsent),
      updatesConsent: str(body.updatesConsent),
      partnerConsent: str(body.partnerConsent),
    };
    const partner = await verifyAttribution(deps, attr);
    const partnerConsent = partnerConsentField(partner ? await getPartner(deps, { key: partner }) : null);
    // Every error re-renders the form with what was typed, whatever went wrong.
    const rerender = (errors: FieldError[], status: number) =>
      c.html(
        deps.templates.render("pages/pledges/form", {
          title: "Make your pledge",
          pledgeForm: pledgeFormView({
            campaign: c.var.deps.config.campaign,
            action: "/pledge",
            values: form,
            errors,
            hidden: attr ? [{ name: "attr", value: attr }] : [],
            partnerConsent,
          }),
          errors,
        }),
        status as 400,
      );
    const parsed = CreatePledgeInput.safeParse({
      ...form,
      partner,
      // Counted only when the box was offered: the pledge is credited to that partner.
      partnerConsent: partnerConsent ? form.partnerConsent : undefined,
    });
    try {
      withinLimit(c);
      if (!parsed.success) return rerender(pledgeFieldErrors(parsed.error.issues), 400);
      await createPledge(deps, parsed.data);
    } catch (e) {
      if (!isAppError(e) || e.code === "internal") throw e;
      if (typeof e.extra.retryAfter === "number")
        c.header("retry-after", String(Math.ceil(e.extra.retryAfter)));
      return rerender([pledgeServiceError(e)], e.status);
    }
    return c.html(
      deps.templates.render("pages/pledges/check-email", {
        title: "Check your email",
        // Nothing is confirmed yet: the share text claims nothing about the supporter.
        share: shareLinks(deps.config),
      }),
      202,
    );
  })
  .get("/pledge/confirm", async (c) => {
    const deps = c.var.deps;
    const token = c.req.query("token") ?? "";
    const pledge = await pledgeForToken(deps, { token });
    // "<partner> may contact me", ticked with this pledge: shown, ticked, to be unticked.
    const partnerConsent = await pendingConsentFor(deps, {
      source: "pledge",
      ref: await pledgeRef(deps, token),
    });
    return c.html(
      deps.templates.render("pages/pledges/confirm", {
        title: "Confirm your pledge",
        token,
        pledge,
        partnerConsent,
      }),
    );
  })
  .post("/pledge/confirm", async (c) => {
    const deps = c.var.deps;
    const form = await c.req.parseBody();
    const token = str(form.token);
    if (form.partnerConsentShown === "1" && form.partnerConsent !== "yes")
      await withdrawConsent(deps, { source: "pledge", ref: await pledgeRef(deps, token) });
    const result = await confirmPledge(deps, { token });
    return c.html(
      deps.templates.render("pages/pledges/confirm", {
        title: "Thank you",
        done: true,
        result,
        counter: await pledgeCounter(deps),
        share: shareLinks(deps.config, { kind: "pledged" }),
      }),
    );
  })
  .get("/pledges/wall", async (c) => {
    const deps = c.var.deps;
    c.header("cache-control", "public, max-age=60");
    return c.html(
      deps.templates.render("pages/pledges/wall", {
        title: "Pledge wall",
        wall: await pledgeWall(deps),
        counter: await pledgeCounter(deps),
      }),
    );
  })
  .get("/pledge/:kind{mp|candidate|msp|ms|mla}/:ref", async (c) => {
    const deps = c.var.deps;
    const target = await repTarget(deps, parseRepRef(c.req.param("kind"), c.req.param("ref")));
    return c.html(
      deps.templates.render("pages/pledges/rep", {
        title: `${target.name}: the ${deps.config.campaign.hashtag} pledge`,
        target: { ...target, email: undefined, contactable: !!target.email },
      }),
    );
  })
  .post("/pledge/:kind{mp|candidate|msp|ms|mla}/:ref", async (c) => {
    const deps = c.var.deps;
    const ref = parseRepRef(c.req.param("kind"), c.req.param("ref"));
    const result = await requestRepPledgeLink(deps, ref);
    const target = await repTarget(deps, ref);
    return c.html(
      deps.templates.render("pages/pledges/rep", {
        title: `${target.name}: the ${deps.config.campaign.hashtag} pledge`,
        target: { ...target, email: undefined, contactable: !!target.email },
        result,
      }),
      202,
    );
  })
  .get("/pledge/rep/verify", async (c) => {
    const deps = c.var.deps;
    const token = c.req.query("token") ?? "";
    const pledge = await repPledgeForToken(deps, { token });
    return c.html(
      deps.templates.render("pages/pledges/rep-verify", { title: "Sign the pledge", token, pledge }),
    );
  })
  .post("/pledge/rep/verify", async (c) => {
    const deps = c.var.deps;
    const token = str((await c.req.parseBody()).token);
    const result = await verifyRepPledge(deps, { token });
    return c.html(
      deps.templates.render("pages/pledges/rep-verify", { title: "Thank you", done: true, pledge: result }),
    );
  });
