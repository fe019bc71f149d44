/**
 * Command line: `npm run cli -- <command> [args]`. Uses the same configuration (DATABASE_PATH
 * etc.) and the same import verbs as the server.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError, parseEnv } from "../../env";
import { importMembers } from "../../modules/lookup/lookup.import";
import { buildNodeDeps, ROOT_DIR } from "./deps";
import {
  DEFAULT_POSTCODE_BATCH,
  importCandidatesCsv,
  importConstituenciesCsv,
  importMembersJson,
  importPostcodesCsv,
} from "./importers";
import { seed } from "./seed";

const USAGE = `usage: npm run cli -- <command>

  seed                                 load data/ into an empty database (also done by npm start)
  import:constituencies <file.csv>     constituencies (ons_code,name,nation,region_code,region_name[,hex_q,hex_r])
  import:postcodes <file.csv> [--column pcon] [--batch ${DEFAULT_POSTCODE_BATCH}]
                                       ONS NSPL/ONSPD postcode CSV (streamed; progress on stderr)
  import:members <file.json>           UK Parliament Members API search response(s) saved as JSON
  sync:members [--emails]              fetch current MPs from the Members API (--emails: contact details too)
  import:candidates <file.csv> --election <id>
                                       Democracy Club candidates CSV for one election (e.g. parl.2029-05-03)
`;

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
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, file] = positionals;
  if (!command || values.help) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = parseEnv(env);
  const { deps, sqlite } = buildNodeDeps(config);
  const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
  const needFile = () => {
    if (!file) throw new ConfigError(`${command} needs a file argument\n\n${USAGE}`);
    return resolve(file);
  };
  try {
    switch (command) {
      case "seed":
        out(await seed(deps, resolve(ROOT_DIR, "data")));
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
        const report = await importPostcodesCsv(deps, needFile(), {
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
        return 0;
      }
      case "import:members":
        out(await importMembersJson(deps, needFile()));
        return 0;
      case "sync:members": {
        const list = await deps.memberSource.allCurrent();
        if (values.emails) {
          for (const [i, m] of list.entries()) {
            m.email = await deps.memberSource.emailFor(m.parliamentId);
            process.stderr.write(`\rcontact details ${i + 1}/${list.length}`);
          }
          process.stderr.write("\n");
        }
        out(await importMembers(deps, list));
        return 0;
      }
      case "import:candidates": {
        const election = ElectionId.parse(values.election ?? config.ELECTION_ID);
        out(await importCandidatesCsv(deps, needFile(), election));
        return 0;
      }
      default:
        process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } finally {
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
