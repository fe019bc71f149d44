/**
 * The OpenAPI 3.1 document: every public route the app serves is described (enumerated from the
 * routing table), nothing described is missing from the app, request schemas are the very ones
 * the routes validate with, and the response check that every route test goes through
 * (tests/support/api-contract.ts) really refuses a response that breaks its schema.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { OPERATIONS, openApiPath } from "../../src/modules/api/api.openapi";
import { SubmitLetterInput } from "../../src/modules/letters/letters.schemas";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { LookupQuery } from "../../src/modules/lookup/lookup.schemas";
import { CreatePledgeInput } from "../../src/modules/pledges/pledges.schemas";
import { savePartner } from "../../src/modules/widget/widget.service";
import { ContractError, checkApiResponse, checked } from "../support/api-contract";
import { expectStatus, testApp } from "../support/deps";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: unknown }> };
        parameters: { name: string; in: string; schema: unknown }[];
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

/** The app's public JSON routes: /api/*, less the limiters registered on wildcards. */
function publicRoutes(app: ReturnType<typeof testApp>["app"]) {
  return [
    ...new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/") && !r.path.includes("*"))
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`),
    ),
  ].sort();
}

describe("GET /api/openapi.json", () => {
  it("is an OpenAPI 3.1 document of this server, readable from anywhere", async () => {
    const t = testApp({ PUBLIC_URL: "https://act.example.org" });
    const res = await t.request("/api/openapi.json");
    const doc = (await expectStatus(res, 200)) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("#SpeakUpForBabies API");
    expect(doc.servers).toEqual([{ url: "https://act.example.org" }]);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(doc.components.schemas.Problem).toMatchObject({ type: "object" });
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        expect(op.responses.default, `${method} ${path}`).toBeDefined();
        const refs = JSON.stringify(op).match(/"\$ref":"[^"]+"/g) ?? [];
        for (const ref of refs) expect(ref).toBe('"$ref":"#/components/schemas/Problem"');
      }
  });

  it("describes every public route the app serves, and nothing it doesn't", async () => {
    const t = testApp();
    const doc = (await expectStatus(await t.request("/api/openapi.json"), 200)) as Doc;
    const described = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`))
      .sort();
    expect(described).toEqual(publicRoutes(t.app));
    expect(OPERATIONS.length).toBe(described.length);
  });

  it("documents requests with the very schemas the routes validate with", async () => {
    const t = testApp();
    const doc = (await expectStatus(await t.request("/api/openapi.json"), 200)) as Doc;
    const body = (path: string) => doc.paths[path]?.post?.requestBody?.content["application/json"]?.schema;
    const own = (schema: z.ZodType) => {
      const { $schema: _, ...rest } = z.toJSONSchema(schema, {
        io: "input",
        unrepresentable: "any",
      }) as Record<string, unknown>;
      return rest;
    };
    expect(body("/api/pledges")).toEqual(own(CreatePledgeInput));
    expect(body("/api/letters")).toEqual(own(SubmitLetterInput));
    // The consent to hear from a partner is part of the public contract, optional.
    expect(JSON.stringify(body("/api/pledges"))).toContain("partner-2026-12");
    const params = doc.paths["/api/lookup"]?.get?.parameters.map((p) => p.name);
    expect(params).toEqual(Object.keys(LookupQuery.shape));
  });
});

describe("the response contract every route test is held to", () => {
  it("passes the real answers of each GET operation, and refuses one that breaks its schema", async () => {
    const t = testApp({ REMOTE_LOOKUP: "off" });
    await ensureTestSeat(t.deps);
    await savePartner(t.deps, {
      key: "acme",
      name: "Acme",
      allowedOrigins: ["https://acme.example"],
      active: true,
    });
    const before = checked.count;
    for (const path of [
      "/api/lookup?postcode=ZZ9+9ZZ",
      "/api/lookup?q=test",
      "/api/constituencies/ZZ9999999",
      "/api/pledges/counter",
      "/api/pledges/wall",
      "/api/representatives/mp/ZZ9999999/pledge",
      "/api/widget/acme",
      "/api/widget/nobody",
      "/api/openapi.json",
      "/api/letters/00000000-0000-4000-8000-000000000000",
      "/api/lookup?postcode=nonsense",
    ])
      await t.request(path);
    expect(checked.count - before).toBe(11);
    const wrong = new Response(JSON.stringify({ campaignId: "x", supporters: { total: "many" } }), {
      headers: { "content-type": "application/json" },
    });
    await expect(checkApiResponse("/api/pledges/counter", undefined, wrong)).rejects.toThrow(ContractError);
    const htmlError = new Response("<h1>oops</h1>", {
      status: 500,
      headers: { "content-type": "text/html" },
    });
    await expect(checkApiResponse("/api/pledges", { method: "POST" }, htmlError)).rejects.toThrow(
      /problem\+json/,
    );
    const undocumented = new Response("{}", { headers: { "content-type": "application/json" } });
    await expect(checkApiResponse("/api/secret", undefined, undocumented)).rejects.toThrow(/no operation/);
  });
});
