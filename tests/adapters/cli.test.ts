/**
 * The CLI (`npm run cli -- ...`) run in-process against a SQLite file in a temp directory, as a
 * user would run it beside the server; each test checks the database afterwards.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/adapters/node/cli";
import { buildNodeDeps, ROOT_DIR } from "../../src/adapters/node/deps";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { pauseRelay } from "../../src/modules/delivery/delivery.relay";
import { ADMIN, cookieFrom, signInForm } from "../support/admin";
import { expectStatus } from "../support/deps";
import { devolvedApiServer } from "../support/devolved-api";
import { letterInput } from "../support/letters";
import { fixturePath } from "../support/lookup-data";
import { membersApiServer } from "../support/members-api";
import { mswServer, useMsw } from "../support/msw";

useMsw();

let dir: string;
let env: Record<string, string>;
let stdout: string[];
let stderr: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "speakup-cli-"));
  env = { DATABASE_PATH: join(dir, "speakup.sqlite"), LOG_LEVEL: "silent", REMOTE_LOOKUP: "off" };
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** Read the database the CLI wrote (it has closed its own connection by now). */
function query<T = unknown>(sql: string): T[] {
  const db = new Database(env.DATABASE_PATH as string, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}
const count = (table: string) => query<{ n: number }>(`select count(*) n from ${table}`)[0]?.n;
const printed = () => JSON.parse(stdout.join("")) as Record<string, unknown>;

describe("npm run cli", () => {
  it("seed <dir> loads constituencies, MPs and postcodes into an empty database, plus the test seat", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    copyFileSync(fixturePath("import", "constituencies.csv"), join(data, "constituencies.csv"));
    copyFileSync(fixturePath("import", "mps.csv"), join(data, "mps.csv"));
    // An NSPL file works as data/postcodes.csv too; AB1 0AA's seat (Aberdeen South) isn't among
    // the five loaded, so that row is refused.
    copyFileSync(fixturePath("import", "nspl-sample.csv"), join(data, "postcodes.csv"));

    expect(await runCli(["seed", data], env)).toBe(0);
    expect(printed()).toEqual({ constituencies: 6, members: 6, postcodes: 9 });
    expect(query("select status, name, email from members where constituency_code = 'S14000060'")).toEqual([
      { status: "sitting", name: "Kirsty Blackman", email: "kirsty.blackman.mp@parliament.uk" },
    ]);
    expect(query("select constituency_code from postcodes where postcode = 'ZZ9 9ZZ'")).toEqual([
      { constituency_code: "Z00000001" },
    ]);

    // A second seed leaves a loaded database as it is.
    stdout = [];
    expect(await runCli(["seed", data], env)).toBe(0);
    expect(printed()).toEqual({ constituencies: 6, members: 6, postcodes: 9 });
  });

  it("import:postcodes streams an NSPL file, prints the report and shows progress on stderr", async () => {
    expect(await runCli(["import:constituencies", resolve(ROOT_DIR, "data/constituencies.csv")], env)).toBe(
      0,
    );
    stdout = [];
    expect(
      await runCli(["import:postcodes", fixturePath("import", "nspl-sample.csv"), "--batch", "100"], env),
    ).toBe(0);
    expect(printed()).toMatchObject({
      read: 10,
      imported: 9,
      skipped: 1,
      terminated: 1,
      column: "pcon",
      byNation: { England: 3, Scotland: 2, Wales: 1, "Northern Ireland": 1, none: 2 },
    });
    expect(stderr.join("")).toMatch(/9 postcodes/);
    expect(count("postcodes")).toBe(9);
    expect(query("select terminated from postcodes where postcode = 'AB1 0AA'")).toEqual([{ terminated: 1 }]);
  });

  it("import:constituencies, import:members and import:candidates fill their tables", async () => {
    expect(await runCli(["import:constituencies", fixturePath("import", "constituencies.csv")], env)).toBe(0);
    expect(count("constituencies")).toBe(5);

    stdout = [];
    expect(await runCli(["import:members", fixturePath("members-api", "members-search.json")], env)).toBe(0);
    expect(printed()).toMatchObject({
      status: "applied",
      sitting: 4,
      vacant: 1,
      unmatched: ["North West Essex"],
    });
    expect(query("select status from members where constituency_code = 'N05000001'")).toEqual([
      { status: "vacant" },
    ]);

    stdout = [];
    const args = [
      "import:candidates",
      fixturePath("import", "dc-candidates.csv"),
      "--election",
      "parl.2024-07-04",
    ];
    expect(await runCli(args, env)).toBe(0);
    expect(printed()).toEqual({ imported: 4, skipped: 3, unmatched: ["Atlantis Central"] });
    expect(query("select name from candidates where constituency_code = 'E14001063' order by name")).toEqual([
      { name: "Alex Baker" },
      { name: "Leo Docherty" },
    ]);
  });

  it("import:candidates takes the election from ELECTION_ID and rejects a malformed one", async () => {
    await runCli(["import:constituencies", fixturePath("import", "constituencies.csv")], env);
    const file = fixturePath("import", "dc-candidates.csv");
    expect(await runCli(["import:candidates", file], { ...env, ELECTION_ID: "parl.2024-07-04" })).toBe(0);
    expect(count("candidates")).toBe(4);
    await expect(runCli(["import:candidates", file, "--election", "Parl 2024"], env)).rejects.toThrow(
      /Democracy Club election id/,
    );
  });

  it("a failed import names the file and row, and leaves the database unchanged", async () => {
    await expect(
      runCli(["import:constituencies", fixturePath("import", "constituencies-bad-row.csv")], env),
    ).rejects.toThrow(/row 3: nation/);
    expect(count("constituencies")).toBe(0);
  });

  it("sync:members applies the Members API's answer, and exits 1 with the reason when the guard refuses", async () => {
    expect(await runCli(["seed"], env)).toBe(0);
    const api = membersApiServer();
    mswServer.use(...api.handlers);
    api.control.roster = api.control.roster.filter((r) => r.constituency !== "Clacton");
    stdout = [];
    expect(
      await runCli(["sync:members", "--body", "uk_parliament"], { ...env, MEMBERS_SYNC_CONTACTS: "5" }),
    ).toBe(0);
    expect(printed()).toMatchObject({
      status: "applied",
      trigger: "cli",
      seatsChanged: 1,
      vacant: 1,
      contactsChecked: 5,
    });
    expect(query("select status from members where constituency_code = 'E14001174'")).toEqual([
      { status: "vacant" },
    ]);

    api.control.roster = api.control.roster.slice(0, 300);
    stdout = [];
    expect(await runCli(["sync:members", "--body", "uk_parliament"], env)).toBe(1);
    expect(printed()).toMatchObject({ status: "refused" });
    expect(String(printed().detail)).toMatch(/sync:members --body uk_parliament --force/);
    stdout = [];
    expect(
      await runCli(["sync:members", "--body", "uk_parliament", "--force"], {
        ...env,
        MEMBERS_SYNC_CONTACTS: "0",
      }),
    ).toBe(0);
    expect(printed()).toMatchObject({ status: "applied", forced: true, vacant: 350 });
  });

  it("sync:members --body and the devolved importers: import:devolved-members, import:postcode-areas (SPD shape)", async () => {
    expect(await runCli(["seed"], env)).toBe(0);
    const devolved = devolvedApiServer();
    mswServer.use(...devolved.handlers);
    // The Senedd's service: ids and addresses filled in, nobody changed.
    stdout = [];
    expect(await runCli(["sync:members", "--body", "senedd"], env)).toBe(0);
    expect(printed()).toMatchObject({ body: "senedd", status: "applied", trigger: "cli" });
    expect(
      query("select count(*) n from devolved_members where body = 'senedd' and email is not null"),
    ).toEqual([{ n: 96 }]);
    // A body that isn't one.
    await expect(runCli(["sync:members", "--body", "holyrood"], env)).rejects.toThrow(/--body: one of/);

    // The shipped MLAs again: the same people, nothing to change.
    stdout = [];
    expect(
      await runCli(
        ["import:devolved-members", resolve(ROOT_DIR, "data/devolved/mlas.csv"), "--body", "ni_assembly"],
        env,
      ),
    ).toBe(0);
    expect(printed()).toMatchObject({ status: "applied", trigger: "import", changes: 0 });

    // The Scottish Postcode Directory's columns (values made up for the test): the newest
    // boundary year's codes are read, a deleted postcode skipped, an unknown area refused.
    const spd = join(dir, "SmallUser.csv");
    writeFileSync(
      spd,
      [
        "Postcode,PostcodeDistrict,DateOfIntroduction,DateOfDeletion,ScottishParliamentaryConstituency2021Code,ScottishParliamentaryConstituency2026Code,ScottishParliamentaryRegion2021Code,ScottishParliamentaryRegion2026Code",
        "EH99 1SP,EH99,199607,,S16000105,S16000182,S17000012,S17000022",
        "EH99 1ZZ,EH99,199607,202001,S16000105,S16000182,S17000012,S17000022",
        "EH98 1ZZ,EH98,199607,,S16000106,S16999999,S17000012,S17000022",
      ].join("\n"),
    );
    stdout = [];
    expect(await runCli(["import:postcode-areas", spd], env)).toBe(0);
    expect(printed()).toMatchObject({
      imported: 1,
      rejected: 1,
      deleted: 1,
      columns: {
        holyroodConstituency: "scottishparliamentaryconstituency2026code",
        holyroodRegion: "scottishparliamentaryregion2026code",
      },
    });
    expect(
      query(
        "select postcode, holyrood_constituency, holyrood_region from postcode_areas where postcode like 'EH9%'",
      ),
    ).toEqual([{ postcode: "EH99 1SP", holyrood_constituency: "S16000182", holyrood_region: "S17000022" }]);
    // Every row refused (the 2021 boundaries only): exit 1.
    const old = join(dir, "old.csv");
    writeFileSync(old, "Postcode,ScottishParliamentaryConstituency2021Code\nEH99 1SP,S16000105\n");
    await expect(runCli(["import:postcode-areas", old], env)).rejects.toThrow(/no devolved area column/);
  });

  it("answers usage errors with exit code 2", async () => {
    expect(await runCli([], env)).toBe(2);
    expect(stdout.join("")).toMatch(/usage: npm run cli/);
    expect(await runCli(["import:everything"], env)).toBe(2);
    expect(stderr.join("")).toMatch(/unknown command: import:everything/);
    await expect(runCli(["import:postcodes"], env)).rejects.toThrow(/needs a file argument/);
  });

  it("seed with the shipped data/ lets the app answer a real postcode from the sample", async () => {
    expect(await runCli(["seed"], env)).toBe(0);
    const counts = printed();
    expect(counts.constituencies).toBe(651);
    expect(counts.members).toBe(651);

    // The first live postcode in the shipped data/postcodes.csv that lies in a seat.
    const [header, ...lines] = readFileSync(resolve(ROOT_DIR, "data", "postcodes.csv"), "utf8")
      .trim()
      .split("\n");
    expect(header).toBe("postcode,pcon24,status");
    const live = lines
      .map((l) => l.split(","))
      .find((r) => r[2] === "live" && /^[ENSW]\d{8}$/.test(r[1] ?? ""));
    if (!live) throw new Error("data/postcodes.csv has no live postcode");
    const postcode = live[0] as string;

    const { deps, sqlite } = buildNodeDeps(parseEnv(env));
    try {
      const app = createApp(() => deps);
      const res = await app.request(`/api/lookup?postcode=${encodeURIComponent(postcode.toLowerCase())}`);
      expect(await expectStatus(res, 200)).toMatchObject({
        postcode,
        source: "local",
        constituency: { code: live[1] },
        mp: { contactable: true },
      });
    } finally {
      sqlite.close();
    }
  });

  it("user:create stores an argon2id hash, never the password, and that lead can sign in", async () => {
    const lead = {
      ...env,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_ARGON2_MEMORY_KIB: "1024",
      ADMIN_ARGON2_ITERATIONS: "1",
    };
    expect(await runCli(["user:create", "--email", ADMIN.email.toUpperCase()], lead)).toBe(0);
    expect(printed()).toEqual({ created: ADMIN.email });
    const [user] = query<{ email: string; password_hash: string }>(
      "select email, password_hash from admin_users",
    );
    expect(user?.email).toBe(ADMIN.email);
    expect(user?.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(user?.password_hash).not.toContain(ADMIN.password);

    const { deps, sqlite } = buildNodeDeps(parseEnv(lead));
    try {
      const app = createApp(() => deps);
      const res = await signInForm({ request: app.request.bind(app) } as Parameters<typeof signInForm>[0]);
      expect(res.status).toBe(303);
      expect(cookieFrom(res, "speakup_admin")).toBeTruthy();
    } finally {
      sqlite.close();
    }
  });

  it("drain sends what the server queued, once; retention and tally run and report", async () => {
    expect(await runCli(["seed", resolve(ROOT_DIR, "data")], env)).toBe(0);
    const { deps, sqlite } = buildNodeDeps(parseEnv(env));
    try {
      const app = createApp(() => deps);
      const res = await app.request("/api/letters", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(letterInput()),
      });
      await expectStatus(res, 201);
    } finally {
      sqlite.close();
    }
    const queued = () => query<{ n: number }>("select count(*) n from outbox where state = 'queued'")[0]?.n;
    expect(queued()).toBe(1); // the confirmation email
    stdout = [];
    expect(await runCli(["drain"], env)).toBe(0);
    expect(printed()).toMatchObject({ mode: "capture", sent: 1 });
    expect(count("captured_mail")).toBe(1);
    stdout = [];
    expect(await runCli(["drain"], env)).toBe(0);
    expect(printed()).toMatchObject({ sent: 0 });
    expect(count("captured_mail")).toBe(1);

    for (const command of ["retention", "tally"]) {
      stdout = [];
      expect(await runCli([command], env)).toBe(0);
      expect(typeof printed()).toBe("object");
    }
  });

  it("outbox shows health; outbox:requeue sends a dead message again (one, or every dead one); outbox:resume asks for a relay check", async () => {
    expect(await runCli(["seed", resolve(ROOT_DIR, "data")], env)).toBe(0);
    const { deps, sqlite } = buildNodeDeps(parseEnv(env));
    try {
      const app = createApp(() => deps);
      for (const email of ["a@example.org", "b@example.org"])
        await expectStatus(
          await app.request("/api/letters", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(letterInput({ supporter: { ...letterInput().supporter, email } })),
          }),
          201,
        );
      // Both confirmation emails ran out of attempts (a fixture: what the worker leaves behind).
      sqlite.prepare("update outbox set state = 'dead', attempts = 8 where kind = 'confirm'").run();
      await pauseRelay(deps, { reason: "auth", detail: "535 5.7.8 bad credentials" });
    } finally {
      sqlite.close();
    }
    const dead = () => query<{ id: string }>("select id from outbox where state = 'dead' order by id");
    const [first] = dead();
    stdout = [];
    expect(await runCli(["outbox"], env)).toBe(0);
    expect(printed()).toMatchObject({ counts: { dead: 2 }, relay: { reason: "auth" }, bouncedAddresses: [] });
    stdout = [];
    expect(await runCli(["outbox:requeue", first!.id], env)).toBe(0);
    expect(printed()).toEqual({ requeued: 1 });
    expect(await runCli(["outbox:requeue", first!.id], env)).toBe(1); // not dead any more
    stdout = [];
    expect(await runCli(["outbox:requeue", "--dead"], env)).toBe(0);
    expect(printed()).toEqual({ requeued: 1 });
    expect(dead()).toEqual([]);
    expect(query("select attempts, attempt_limit l from outbox where kind = 'confirm'")).toEqual([
      { attempts: 8, l: 16 },
      { attempts: 8, l: 16 },
    ]);
    stdout = [];
    expect(await runCli(["outbox:resume"], env)).toBe(0);
    expect(printed()).toEqual({ probing: true });
  });
});
