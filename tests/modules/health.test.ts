import { describe, expect, it } from "vitest";
import { expectStatus, testApp } from "../support/deps";

describe("app basics", () => {
  it("answers /healthz", async () => {
    const { request } = testApp();
    expect(await expectStatus(await request("/healthz"), 200)).toEqual({ ok: true });
  });

  it("answers an unknown path with a not_found problem carrying the request id", async () => {
    const { request } = testApp();
    const res = await request("/nope", { headers: { "x-request-id": "req-123" } });
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await expectStatus(res, 404)).toMatchObject({
      code: "not_found",
      status: 404,
      requestId: "req-123",
    });
  });
});
