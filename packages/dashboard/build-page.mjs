// Bundles the page (page/main.ts, uPlot and the CSS) into dist/public with content-hashed names:
// static files that work offline, no CDN. `npm run build -w @resourcemonitor/dashboard`.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "public");

export async function buildPage() {
  await rm(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: join(here, "page", "main.ts") },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    entryNames: "[name]-[hash]",
    outdir: join(out, "assets"),
    metafile: true,
    logLevel: "warning",
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const js = outputs.find((name) => name.endsWith(".js"));
  const css = outputs.find((name) => name.endsWith(".css"));
  const html = (await readFile(join(here, "page", "index.html"), "utf8")).replace("APP_JS", js).replace("APP_CSS", css);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "index.html"), html);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPage();
