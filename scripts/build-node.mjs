// Compiles the Node entry points (server and CLI) to plain JavaScript in dist/node/, for
// `npm start` and `npm run cli` (each runs this first). Plain .mjs on purpose: building needs
// esbuild only, not tsx, so a production install without dev dependencies can build and run.
// Packages stay external (node_modules); data/, templates/ and the migrations are read from the
// project folder at run time, so editing a campaign file needs a restart, not a rebuild.
import { build } from "esbuild";

await build({
  entryPoints: { main: "src/adapters/node/main.ts", cli: "src/adapters/node/cli.ts" },
  outdir: "dist/node",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
