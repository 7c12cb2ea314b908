import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Screenshots of each view land here (gitignored) for people to look at. */
export const OUTPUT_DIR = fileURLToPath(new URL("../test-output/", import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL("../build-page.mjs", import.meta.url));

/** Bundles the page from the current source, as `npm run build` does. */
export async function buildPage(): Promise<void> {
  await promisify(execFile)(process.execPath, [BUILD_SCRIPT]);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh profile that is deleted afterwards. */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "rm-dashboard-chromium-"));
  // launchPersistentContext passes the profile as Chromium's --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface PixelStats {
  width: number;
  height: number;
  /** Distinct colours among sampled pixels. */
  colors: number;
  /** Share of sampled pixels unlike the top-left one (the background). */
  inked: number;
}

/** Decodes a PNG in the browser (no PNG library here) and measures how much is drawn on it. */
export async function pixelStats(page: Page, png: Buffer): Promise<PixelStats> {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d") as CanvasRenderingContext2D;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    const colors = new Set<number>();
    let inked = 0;
    let sampled = 0;
    const background = (data[0] ?? 0) * 65536 + (data[1] ?? 0) * 256 + (data[2] ?? 0);
    for (let offset = 0; offset < data.length; offset += 4 * 7) {
      const color = (data[offset] ?? 0) * 65536 + (data[offset + 1] ?? 0) * 256 + (data[offset + 2] ?? 0);
      colors.add(color);
      if (color !== background) inked += 1;
      sampled += 1;
    }
    return { width: image.width, height: image.height, colors: colors.size, inked: inked / sampled };
  }, png.toString("base64"));
}

/** Saves a screenshot of the page under test-output/ and returns its pixel statistics. */
export async function screenshot(page: Page, scratch: Page, name: string): Promise<PixelStats> {
  const png = await page.screenshot({ fullPage: true });
  await mkdir(OUTPUT_DIR, { recursive: true });
  await writeFile(join(OUTPUT_DIR, `${name}.png`), png);
  return pixelStats(scratch, png);
}
