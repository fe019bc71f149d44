/**
 * Command line: `npm run cli -- <command> [args]`. Uses the same configuration (DATABASE_PATH
 * etc.) and the same import verbs as the server.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { BODIES, type Body, DEVOLVED_BODIES } from "../../db/schema.devolved";
import { ConfigError, parseEnv } from "../../env";
import { CreateUserInput, createUser } from "../../modules/admin/admin.auth";
import { outboxHealth, relayAlert } from "../../modules/admin/admin.service";
import { tallyLetters } from "../../modules/admin/admin.tallies";
import { probeRelayNow } from "../../modules/delivery/delivery.relay";
import {
  drainOutbox,
  outboxCounts,
  requeueAllDead,
  requeueOutbox,
} from "../../modules/delivery/delivery.service";
import { runDigests } from "../../modules/digest/digest.service";
import { scheduledBodies, syncBody } from "../../modules/members/members.schedule";
import { runRetention } from "../../modules/privacy/privacy.service";
import { buildNodeDeps, ROOT_DIR, readCampaignAssets, readCampaignFiles } from "./deps";
import {
  DEFAULT_POSTCODE_BATCH,
  importCandidatesCsv,
  importConstituenciesCsv,
  importDevolvedMembersFile,
  importMembersFile,
  importPostcodeAreasFile,
  importPostcodesFile,
} from "./importers";
import { seed } from "./seed";

const USAGE = `usage: npm run cli -- <command>

  seed [dir]                           load data/ (or dir) into an empty database (also done by npm start)
  import:constituencies <file.csv>     constituencies (ons_code,name,nation,region_code,region_name[,hex_q,hex_r])
  import:postcodes <file.zip|file.csv> [--column pcon24cd] [--batch ${DEFAULT_POSTCODE_BATCH}]
                                       the ONS NSPL/ONSPD zip as published (or its CSV, or data/postcodes.csv);
                                       streamed, checked against the 2024 seats; counts per nation
  import:members <file.csv|file.json> [--force]
                                       MPs from a CSV like data/mps.csv or a saved Members API search (JSON);
                                       the change log and the guard apply as for a sync
  sync:members [--body <body>|all] [--force] [--all-contacts]
                                       fetch the current members from each parliament's official data and apply
                                       the changes (also daily in npm start): uk_parliament (MPs, Members API),
                                       scottish_parliament (MSPs), senedd (MSs), ni_assembly (MLAs); default all
                                       in MEMBERS_SYNC_BODIES. --force: past the guard (after an election);
                                       --all-contacts: read every MP's address now, not MEMBERS_SYNC_CONTACTS
  import:devolved-members <file.csv> --body <scottish_parliament|senedd|ni_assembly> [--force]
                                       MSPs, MSs or MLAs from a CSV like data/devolved/msps.csv, mss.csv or
                                       mlas.csv; the change log and the guard apply as for a sync
  import:postcode-areas <file.zip|file.csv> [--senedd-column c] [--assembly-column c]
                                       postcodes' devolved areas: the Scottish Postcode Directory (zip or CSV,
                                       its 2026 Holyrood constituency and region), or any postcode CSV with a
                                       Senedd or Assembly column; areas we don't hold are refused and counted
  import:candidates <file.csv> --election <id>
                                       Democracy Club candidates CSV for one election (e.g. parl.2029-05-03)
  drain                                send everything due in the outbox once (MAIL_MODE applies), then exit;
                                       stops early if the relay fails as a whole (the outbox pauses)
  outbox                               outbox health: messages per state, relay pause, bounced addresses
  outbox:requeue <id> | --dead         send a dead message again (a fresh allowance of attempts), or every dead one
  outbox:resume                        check a paused relay at the next drain instead of waiting
  user:create --email <address>        create (or reset the password of) a campaign lead; the password is
                                       read from ADMIN_PASSWORD, else from the first line of stdin
  retention                            scrub old letters, delete unconfirmed pledges (also hourly in npm start)
  digest                               queue the last complete period's digest for every representative's office
                                       that had letters (only when the campaign file turns digests on; the
                                       server checks every DIGEST_CHECK_MINUTES); never twice per period
  tally                                catch up the dashboard's letter counts (a repair tool: confirming a
                                       letter counts it at once), e.g. after restoring rows from a backup
`;

/** First line of a stream (a password piped in: `printf '%s\\n' "$PW" | npm run cli -- user:create`). */
async function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let data = "";
  for await (const chunk of stream) {
    data += chunk.toString();
    if (data.includes("\n")) break;
  }
  return data.split(/\r?\n/)[0] ?? "";
}

const ElectionId = z.string().regex(/^[a-z0-9.-]+$/, "a Democracy Club election id such as parl.2029-05-03");

export async function runCli(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      column: { type: "string" },
      batch: { type: "string" },
      election: { type: "string" },
      emails: { type: "boolean", default: false },
      "all-contacts": { type: "boolean", default: false },
      body: { type: "string" },
      "senedd-column": { type: "string" },
      "assembly-column": { type: "string" },
      force: { type: "boolean", default: false },
      dead: { type: "boolean", default: false },
      email: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, file] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = parseEnv(env, readCampaignFiles(), readCampaignAssets());
  const { deps, sqlite, stop } = buildNodeDeps(config);
  const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
  const needFile = () => {
    if (!file) throw new ConfigError(`${command} needs a file argument\n\n${USAGE}`);
    return resolve(file);
  };
  try {
    switch (command) {
      case "seed":
        out(await seed(deps, file ? resolve(file) : resolve(ROOT_DIR, "data")));
        return 0;
      case "import:constituencies":
        out(await importConstituenciesCsv(deps, needFile()));
        return 0;
      case "import:postcodes": {
        const batchSize = z.coerce
          .number()
          .int()
          .min(100)
          .max(100_000)
          .parse(values.batch ?? DEFAULT_POSTCODE_BATCH);
        const started = Date.now();
        const report = await importPostcodesFile(deps, needFile(), {
          batchSize,
          column: values.column,
          onProgress: (r) => {
            const secs = (Date.now() - started) / 1000;
            process.stderr.write(
              `\r${r.imported.toLocaleString("en-GB")} postcodes (${Math.round(r.imported / secs)}/s)   `,
            );
          },
        });
        process.stderr.write("\n");
        out({ ...report, seconds: (Date.now() - started) / 1000 });
        // A file whose every seat was refused is the wrong file (or the wrong column): say so.
        return report.imported === 0 && report.rejected.unknownSeat + report.rejected.wrongNation > 0 ? 1 : 0;
      }
      case "import:members": {
        const outcome = await importMembersFile(deps, needFile(), { force: values.force });
        out(outcome);
        return outcome.status === "applied" ? 0 : 1;
      }
      case "sync:members": {
        const bodies: Body[] =
          values.body === undefined || values.body === "all"
            ? scheduledBodies(deps)
            : [z.enum(BODIES, { error: `--body: one of ${BODIES.join(", ")} or all` }).parse(values.body)];
        const outcomes = [];
        for (const body of bodies)
          outcomes.push(
            await syncBody(deps, body, {
              trigger: "cli",
              force: values.force,
              // --emails: the older name of --all-contacts.
              allContacts: values["all-contacts"] || values.emails,
            }),
          );
        deps.mailer.close?.();
        out(outcomes.length === 1 ? outcomes[0] : { outcomes });
        return outcomes.every((o) => o.status === "applied") ? 0 : 1;
      }
      case "import:devolved-members": {
        const body = z
          .enum(DEVOLVED_BODIES, { error: `--body: one of ${DEVOLVED_BODIES.join(", ")}` })
          .parse(values.body);
        const outcome = await importDevolvedMembersFile(deps, body, needFile(), { force: values.force });
        deps.mailer.close?.();
        out(outcome);
        return outcome.status === "applied" ? 0 : 1;
      }
      case "import:postcode-areas": {
        const started = Date.now();
        const report = await importPostcodeAreasFile(deps, needFile(), {
          senedd: values["senedd-column"],
          assembly: values["assembly-column"],
          onProgress: (r) => process.stderr.write(`\r${r.imported.toLocaleString("en-GB")} postcodes   `),
        });
        process.stderr.write("\n");
        out({ ...report, seconds: (Date.now() - started) / 1000 });
        // Every row refused: the wrong file, or the wrong boundary year.
        return report.imported === 0 && report.rejected > 0 ? 1 : 0;
      }
      case "import:candidates": {
        const election = ElectionId.parse(values.election ?? config.ELECTION_ID);
        out(await importCandidatesCsv(deps, needFile(), election));
        return 0;
      }
      case "drain": {
        const report = await drainOutbox(deps);
        deps.mailer.close?.();
        out({
          mode: config.MAIL_MODE,
          ...report,
          outbox: await outboxCounts(deps),
          relay: await relayAlert(deps),
        });
        return report.paused ? 3 : 0;
      }
      case "outbox": {
        const health = await outboxHealth(deps);
        out({ counts: health.counts, relay: health.relay, bouncedAddresses: health.flagged });
        return 0;
      }
      case "outbox:requeue": {
        if (values.dead) {
          out({ requeued: await requeueAllDead(deps) });
          return 0;
        }
        if (!file) throw new ConfigError(`outbox:requeue needs a message id or --dead\n\n${USAGE}`);
        const ok = await requeueOutbox(deps, { id: file });
        out({ requeued: ok ? 1 : 0 });
        if (!ok) process.stderr.write("that message is not dead (nothing to requeue)\n");
        return ok ? 0 : 1;
      }
      case "outbox:resume":
        out({ probing: await probeRelayNow(deps) });
        return 0;
      case "user:create": {
        // Never from argv: command lines end up in shell history and `ps`.
        const password = env.ADMIN_PASSWORD ?? (await readFirstLine(process.stdin));
        const user = await createUser(deps, CreateUserInput.parse({ email: values.email, password }));
        out({ created: user.email });
        return 0;
      }
      case "retention":
        out(await runRetention(deps));
        return 0;
      case "digest":
        out(await runDigests(deps));
        return 0;
      case "tally":
        out(await tallyLetters(deps));
        return 0;
      default:
        process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } finally {
    stop();
    sqlite.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(
        e instanceof ConfigError || e instanceof z.ZodError ? `${e.message}\n` : `${e?.stack ?? e}\n`,
      );
      process.exit(1);
    },
  );
}
