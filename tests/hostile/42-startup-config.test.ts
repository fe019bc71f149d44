/**
 * HOSTILE 42: settings that would fail later (or quietly weaken the service) stop start-up with a
 * message naming the setting. Finding: reflect mode (which sends real mail) accepted the published
 * default TOKEN_SECRET.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { ConfigError, DEV_TOKEN_SECRET, parseEnv } from "../../src/env";

const message = (env: Record<string, string>) => {
  try {
    parseEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`parseEnv accepted ${JSON.stringify(env)}`);
};

const RELAY = { SMTP_URL: "smtp://user:pass@127.0.0.1:2525", MAIL_FROM: "campaign@example.org" };

describe("42: start-up refuses settings that can't work or aren't safe", () => {
  it("a relay URL with a user and no password", () => {
    expect(message({ MAIL_MODE: "live", ...RELAY, SMTP_URL: "smtp://user@relay.example.org:587" })).toMatch(
      /SMTP_URL: names a user but no password/,
    );
    expect(message({ MAIL_MODE: "live", ...RELAY, SMTP_URL: "smtp://" })).toMatch(/SMTP_URL/);
  });

  it.each(["reflect", "live"])("the published or a placeholder TOKEN_SECRET when MAIL_MODE=%s", (mode) => {
    expect(message({ MAIL_MODE: mode, ...RELAY })).toMatch(/TOKEN_SECRET: set a real secret/);
    expect(message({ MAIL_MODE: mode, ...RELAY, TOKEN_SECRET: DEV_TOKEN_SECRET })).toMatch(/TOKEN_SECRET/);
    expect(message({ MAIL_MODE: mode, ...RELAY, TOKEN_SECRET: "please-change-me-before-launch" })).toMatch(
      /TOKEN_SECRET/,
    );
    expect(message({ MAIL_MODE: mode, ...RELAY, TOKEN_SECRET: "short" })).toMatch(
      /TOKEN_SECRET: at least 16/,
    );
    expect(
      parseEnv({ MAIL_MODE: mode, ...RELAY, TOKEN_SECRET: "a-long-and-real-secret-4f9c" }).MAIL_MODE,
    ).toBe(mode);
  });

  it("the published TOKEN_SECRET on a listener other machines can reach, even capturing mail", () => {
    expect(message({ HOST: "0.0.0.0" })).toMatch(/TOKEN_SECRET: set a real secret when HOST=0.0.0.0/);
    expect(message({ HOST: "::" })).toMatch(/TOKEN_SECRET/);
    expect(parseEnv({ HOST: "127.0.0.1" }).HOST).toBe("127.0.0.1");
    expect(parseEnv({ HOST: "localhost" }).HOST).toBe("localhost");
    expect(parseEnv({ HOST: "0.0.0.0", TOKEN_SECRET: "a-long-and-real-secret-4f9c" }).HOST).toBe("0.0.0.0");
  });

  it.each(["reflect", "live"])(
    "a placeholder From address (the default, or any reserved domain) when MAIL_MODE=%s",
    (mode) => {
      const real = { MAIL_MODE: mode, ...RELAY, TOKEN_SECRET: "a-long-and-real-secret-4f9c" };
      const { MAIL_FROM: _, ...withoutFrom } = real;
      // The default (campaign@speakup.invalid): reflect mode sends real mail too.
      expect(message(withoutFrom)).toMatch(/MAIL_FROM: set the campaign's real address when MAIL_MODE=/);
      for (const from of ["x@speakup.invalid", "campaign@site.test", "a@b.example", "a@localhost.localhost"])
        expect(message({ ...real, MAIL_FROM: from }), from).toMatch(/MAIL_FROM/);
      expect(message({ ...real, BOUNCE_ADDRESS: "bounces@x.invalid" })).toMatch(
        /BOUNCE_ADDRESS: set a real address/,
      );
      expect(parseEnv(real).MAIL_FROM).toBe("campaign@example.org");
      // Capture mode sends nothing: the default is fine there.
      expect(parseEnv({}).MAIL_FROM).toBe("campaign@speakup.invalid");
    },
  );

  it("a campaign file that doesn't exist, or whose id disagrees with CAMPAIGN_ID", () => {
    expect(message({ CAMPAIGN_ID: "no-such-campaign" })).toMatch(
      /CAMPAIGN_ID: no campaign file data\/campaigns\/no-such-campaign\.json/,
    );
    const raw = { ...parseEnv({}).campaign, id: "other-campaign" };
    expect(() => parseEnv({}, { "manifesto-for-babies": raw })).toThrow(
      /the file name and its id must agree/,
    );
    expect(() => parseEnv({}, { "manifesto-for-babies": { id: "manifesto-for-babies" } })).toThrow(
      /CAMPAIGN_ID: Invalid data\/campaigns\/manifesto-for-babies\.json/,
    );
  });

  it("untrusted proxy settings that aren't addresses", () => {
    expect(message({ TRUSTED_PROXY: "10.0.0.0/8, my-proxy" })).toMatch(
      /TRUSTED_PROXY: "my-proxy" is not an IP/,
    );
    expect(parseEnv({ TRUSTED_PROXY: "10.0.0.0/8 ::1 loopback" }).TRUSTED_PROXY).toEqual([
      "10.0.0.0/8",
      "::1/128",
      "127.0.0.0/8",
      "::1/128",
    ]);
  });

  it("the real server exits 1 with the message, not a stack trace", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", resolve(ROOT_DIR, "src/adapters/node/main.ts")],
      {
        cwd: ROOT_DIR,
        env: { PATH: process.env.PATH ?? "", HOST: "0.0.0.0", PORT: "0", DATABASE_PATH: ":memory:" },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/TOKEN_SECRET: set a real secret when HOST=0\.0\.0\.0/);
    expect(run.stderr).not.toContain("    at ");
  });
});
