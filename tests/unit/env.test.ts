import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "../../src/env";

describe("parseEnv", () => {
  it("fills every lookup setting with its documented default", () => {
    expect(parseEnv({})).toMatchObject({
      PORT: 3000,
      HOST: "127.0.0.1",
      PUBLIC_URL: "http://localhost:3000",
      DATABASE_PATH: "var/speakup.sqlite",
      SEED: true,
      REMOTE_LOOKUP: true,
      POSTCODES_IO_URL: "https://api.postcodes.io",
      MEMBERS_API_URL: "https://members-api.parliament.uk",
      UPSTREAM_TIMEOUT_MS: 2500,
      UPSTREAM_RETRIES: 1,
      LOOKUP_CACHE_TTL_HOURS: 168,
      LOG_LEVEL: "info",
    });
    expect(parseEnv({}).ELECTION_ID).toBeUndefined();
  });

  it("reads numbers and switches from strings, so two instances can differ by PORT and DATABASE_PATH", () => {
    const a = parseEnv({ PORT: "3001", DATABASE_PATH: "var/a.sqlite", SEED: "off", REMOTE_LOOKUP: "0" });
    const b = parseEnv({ PORT: "3002", DATABASE_PATH: "var/b.sqlite" });
    expect(a).toMatchObject({ PORT: 3001, DATABASE_PATH: "var/a.sqlite", SEED: false, REMOTE_LOOKUP: false });
    expect(b).toMatchObject({
      PORT: 3002,
      DATABASE_PATH: "var/b.sqlite",
      PUBLIC_URL: "http://localhost:3002",
    });
  });

  it.each(["abc", "-1", "70000", "80.5"])("rejects PORT=%s with a message naming PORT", (port) => {
    expect(() => parseEnv({ PORT: port })).toThrow(ConfigError);
    expect(() => parseEnv({ PORT: port })).toThrow(/PORT/);
  });

  it("names each bad setting, not just the first", () => {
    let message = "";
    try {
      parseEnv({ PORT: "x", UPSTREAM_TIMEOUT_MS: "5", ELECTION_ID: "Parl 2029" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/UPSTREAM_TIMEOUT_MS/);
    expect(message).toMatch(/ELECTION_ID: a Democracy Club election id/);
  });

  it("treats empty strings as unset", () => {
    const config = parseEnv({ PORT: "", DATABASE_PATH: "", PUBLIC_URL: "", ELECTION_ID: "", SEED: "" });
    expect(config).toMatchObject({ PORT: 3000, DATABASE_PATH: "var/speakup.sqlite", SEED: true });
    expect(config.PUBLIC_URL).toBe("http://localhost:3000");
    expect(config.ELECTION_ID).toBeUndefined();
  });

  it("takes PUBLIC_URL as given, without a trailing slash", () => {
    expect(parseEnv({ PUBLIC_URL: "https://speakup.example.org/" }).PUBLIC_URL).toBe(
      "https://speakup.example.org",
    );
    expect(() => parseEnv({ PUBLIC_URL: "not a url" })).toThrow(/PUBLIC_URL/);
  });

  it("ignores variables it doesn't know (the whole of process.env is passed in)", () => {
    expect(parseEnv({ PATH: "/usr/bin", HOME: "/root", PORT: "4000" }).PORT).toBe(4000);
  });

  it("accepts a Democracy Club election id", () => {
    expect(parseEnv({ ELECTION_ID: "parl.2029-05-03" }).ELECTION_ID).toBe("parl.2029-05-03");
  });

  it("keeps letter text 28 days after sending and names 60, and refuses an anonymise period too short for what needs the address", () => {
    const c = parseEnv({});
    expect([c.RETENTION_DAYS, c.ANONYMISE_DAYS, c.LETTER_SIMILARITY_HOLD]).toEqual([28, 60, 0.5]);
    expect(() => parseEnv({ ANONYMISE_DAYS: "20" })).toThrow(
      /ANONYMISE_DAYS: must be at least RETENTION_DAYS/,
    );
    expect(() => parseEnv({ ANONYMISE_DAYS: "30", LETTER_SAME_RECIPIENT_DAYS: "45" })).toThrow(
      /ANONYMISE_DAYS: must be at least LETTER_SAME_RECIPIENT_DAYS/,
    );
    expect(() => parseEnv({ ANONYMISE_DAYS: "30", LETTER_FOLLOWUP_DAYS: "28" })).toThrow(
      /ANONYMISE_DAYS: must be at least LETTER_FOLLOWUP_DAYS \+ 7/,
    );
    expect(() => parseEnv({ LETTER_CHASE_AFTER_WEEKS: "4" })).toThrow(
      /LETTER_CHASE_AFTER_WEEKS: must fall due at least 7 days before RETENTION_DAYS/,
    );
    expect(parseEnv({ LETTER_CHASE_AFTER_WEEKS: "4", RETENTION_DAYS: "35" }).LETTER_CHASE_AFTER_WEEKS).toBe(
      4,
    );
    expect(parseEnv({ RETENTION_DAYS: "90", ANONYMISE_DAYS: "120" }).ANONYMISE_DAYS).toBe(120);
  });
});
