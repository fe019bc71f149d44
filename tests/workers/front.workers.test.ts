/**
 * The front page on Workers: the campaign's story, counters, and its pictures (bundled at build
 * time, as a Worker has no file system), the favicon, and the hex map's published layout in D1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { startWorker, type TestWorker } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

describe("the front page on Workers + D1", () => {
  it("shows the campaign with its counters, and serves its pictures and favicon from the bundle", async () => {
    w = await startWorker();
    const html = (await expectStatus(await w.fetch("/"), 200)) as string;
    expect(html).toContain('<h1 id="hero-title">');
    expect(html).toMatch(/data-figure="pledges"><strong>0<\/strong>/);
    expect(html).toContain('<img src="/campaign/manifesto-for-babies.logo.svg"');
    for (const path of [
      "/campaign/manifesto-for-babies.logo.svg",
      "/campaign/manifesto-for-babies.hero.svg",
      "/favicon.ico",
    ]) {
      const res = await w.fetch(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe("image/svg+xml");
      expect(await res.text(), path).toMatch(/^<svg /);
    }
    // The seeded seats sit in the published hexmap's cells (migration 0006 and data/ agree).
    const cell = (await w.db
      .prepare("select hex_q q, hex_r r from constituencies where ons_code = 'E14001063'")
      .first()) as { q: number; r: number };
    expect(cell).toEqual({ q: 56, r: -40 });
    expect(w.unhandled).toEqual([]);
  });
});
