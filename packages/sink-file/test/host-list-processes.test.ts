import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WRITERS = 6;
const WRITE_MS = 3000;
const WRITER_SCRIPT = fileURLToPath(new URL("./list-writer.ts", import.meta.url));

interface Writer {
  host: string;
  hasWritten: boolean;
  output: string;
  exit: Promise<number | null>;
}

function startWriter(dir: string, host: string): Writer {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER_SCRIPT, dir, host, String(WRITE_MS)], { stdio: ["ignore", "pipe", "pipe"] });
  const writer: Writer = { host, hasWritten: false, output: "", exit: new Promise((done) => child.on("exit", done)) };
  const collect = (chunk: Buffer) => {
    writer.output += chunk.toString();
    if (writer.output.includes("wrote\n")) writer.hasWritten = true;
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  return writer;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

test(`${WRITERS} processes updating one list.json for ${WRITE_MS / 1000} s: it always parses and never loses a host`, { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "rm-sink-file-processes-"));
  try {
    const writers = Array.from({ length: WRITERS }, (_, index) => startWriter(dir, `proc-${index}`));
    let running = true;
    const exits = Promise.all(writers.map((writer) => writer.exit)).finally(() => (running = false));
    let reads = 0;
    while (running) {
      // Who has written is noted before the read: each of them must be in what the read sees.
      const mustBeThere = writers.filter((writer) => writer.hasWritten).map((writer) => writer.host);
      let text: string;
      try {
        text = await readFile(join(dir, "list.json"), "utf8");
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, "ENOENT", String(error));
        assert.deepEqual(mustBeThere, [], "list.json vanished after hosts had written it");
        await sleep(1);
        continue;
      }
      const list = JSON.parse(text) as Record<string, string>;
      for (const host of mustBeThere) assert.ok(host in list, `read ${reads}: ${host} missing from ${text}`);
      reads += 1;
    }
    const codes = await exits;
    for (const [index, writer] of writers.entries()) assert.equal(codes[index], 0, `${writer.host}: ${writer.output}`);
    const updates = writers.map((writer) => Number(/done (\d+)/.exec(writer.output)?.[1] ?? 0));
    const final = JSON.parse(await readFile(join(dir, "list.json"), "utf8")) as Record<string, string>;
    assert.deepEqual(Object.keys(final).sort(), writers.map((writer) => writer.host));
    assert.ok(reads > 100, `only ${reads} reads`);
    assert.ok(updates.every((count) => count > 10), `updates per writer: ${updates.join(", ")}`);
    assert.deepEqual((await readdir(dir)).sort(), [".list.json.lockbase", "list.json"], "no temp file or lock is left behind");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
