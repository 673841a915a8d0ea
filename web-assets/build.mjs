// Build the bundles the pages load: node build.mjs [--plotly-only] [PLOTLY_OUTPUT [ENGINE_OUTPUT]]
// - the partial plotly.js bundle (default ../ctsite/web/static/vendor/plotly-partial.min.js);
// - the static site's browser engine, engine/index.js and its npm packages (default
//   ctsite-engine.js beside the plotly.js bundle), exposed to a page as `window.ctsiteEngine`.
// Each is written to a temporary name and renamed, so a failed build never leaves half a file
// where the site looks for it. `--plotly-only` (the Docker image: its server computes the
// figures) skips the engine.
import { build } from "esbuild";
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const plotlyOnly = process.argv.includes("--plotly-only");
const args = process.argv.slice(2).filter((a) => a !== "--plotly-only");
const plotlyOutput = resolve(args[0] || resolve(here, "../ctsite/web/static/vendor/plotly-partial.min.js"));
const engineOutput = resolve(args[1] || resolve(dirname(plotlyOutput), "ctsite-engine.js"));
const version = (name) => JSON.parse(readFileSync(resolve(here, `node_modules/${name}/package.json`))).version;

async function bundle(output, options) {
  const temporary = `${output}.${process.pid}.tmp`;
  mkdirSync(dirname(output), { recursive: true });
  try {
    await build({ outfile: temporary, bundle: true, minify: true, logLevel: "warning", ...options });
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  console.log(`wrote ${output}`);
}

await bundle(plotlyOutput, {
  entryPoints: [resolve(here, "entry.js")],
  format: "iife",
  target: "es2017",
  legalComments: "eof",
  // maplibre's stylesheet is only required by map traces, which this bundle leaves out
  loader: { ".css": "empty" },
  define: { global: "window", "define.amd": "false" },
  banner: {
    js:
      `/*! plotly.js v${version("plotly.js")} (https://plot.ly/javascript/), partial bundle: ` +
      "scatter, scatterpolar, barpolar. Copyright 2012-2026, Plotly, Inc. MIT license. */",
  },
});

if (!plotlyOnly) await bundle(engineOutput, {
  entryPoints: [resolve(here, "engine/index.js")],
  format: "iife",
  globalName: "ctsiteEngine",
  target: "es2020", // BigInt (apache-arrow's 64-bit integers)
  legalComments: "eof",
  banner: {
    js:
      "/*! ctsite's figure engine (web-assets/engine/, the port of ctsite/figures/); bundles " +
      `apache-arrow v${version("apache-arrow")} (Apache-2.0). */`,
  },
});
