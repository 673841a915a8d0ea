// Build the partial plotly.js bundle: node build.mjs [OUTPUT]
// (default ../ctsite/web/static/vendor/plotly-partial.min.js). Written to a temporary name and
// renamed, so a failed build never leaves half a file where the site looks for it.
import { build } from "esbuild";
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = resolve(process.argv[2] || resolve(here, "../ctsite/web/static/vendor/plotly-partial.min.js"));
const version = JSON.parse(readFileSync(resolve(here, "node_modules/plotly.js/package.json"))).version;
const temporary = `${output}.${process.pid}.tmp`;

mkdirSync(dirname(output), { recursive: true });
try {
  await build({
    entryPoints: [resolve(here, "entry.js")],
    outfile: temporary,
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2017",
    legalComments: "eof",
    // maplibre's stylesheet is only required by map traces, which this bundle leaves out
    loader: { ".css": "empty" },
    define: { global: "window", "define.amd": "false" },
    banner: {
      js:
        `/*! plotly.js v${version} (https://plot.ly/javascript/), partial bundle: ` +
        "scatter, scatterpolar, barpolar. Copyright 2012-2026, Plotly, Inc. MIT license. */",
    },
    logLevel: "warning",
  });
  renameSync(temporary, output);
} catch (error) {
  rmSync(temporary, { force: true });
  throw error;
}
console.log(`wrote ${output}`);
