// Bundles the page (page/main.ts, uPlot and the CSS) into dist/public with content-hashed names:
// static files that work offline, no CDN. `npm run build -w @resourcemonitor/dashboard`.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "public");

const common = { bundle: true, minify: true, target: ["es2022"], entryNames: "[name]-[hash]", outdir: join(out, "assets"), metafile: true, logLevel: "warning" };

/** The names of a build's outputs (content-hashed). */
const outputsOf = (result) => Object.keys(result.metafile.outputs).map((file) => basename(file));

export async function buildPage() {
  await rm(out, { recursive: true, force: true });
  // The main script: a module, run once the document is parsed.
  const app = outputsOf(await build({ ...common, entryPoints: { app: join(here, "page", "main.ts") }, format: "esm" }));
  // A small classic script run from the head as soon as it is parsed: it starts the view's API requests.
  const boot = outputsOf(await build({ ...common, entryPoints: { boot: join(here, "page", "boot.ts") }, format: "iife" }));
  const js = app.find((name) => name.endsWith(".js"));
  const css = app.find((name) => name.endsWith(".css"));
  const bootJs = boot.find((name) => name.endsWith(".js"));
  const html = (await readFile(join(here, "page", "index.html"), "utf8")).replace("APP_JS", js).replace("APP_CSS", css).replace("BOOT_JS", bootJs);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "index.html"), html);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPage();
