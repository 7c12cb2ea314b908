import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Publisher } from "../src/publish.js";

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "rm-publish-"));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("each publish replaces the file's text; two inodes take turns and no temporary file is left", () => withDir(async (dir) => {
  const file = join(dir, "state", "status.json");
  const publisher = new Publisher(file);
  const inodes = new Set<number>();
  for (const text of ["first, a long text", "second", "third text", "4"]) {
    publisher.publish(text);
    assert.equal(await readFile(file, "utf8"), text, "shorter texts are not followed by the end of longer ones");
    inodes.add((await stat(file)).ino);
  }
  assert.equal(inodes.size, 2);
  assert.deepEqual((await readdir(join(dir, "state"))).sort(), [".status.json.a", ".status.json.b", "status.json"]);
}));

test("a reader that opened the file before a publish reads the old text whole", () => withDir(async (dir) => {
  const file = join(dir, "status.json");
  const publisher = new Publisher(file);
  publisher.publish("old text");
  const reader = await open(file, "r");
  try {
    publisher.publish("new text, longer than the old");
    assert.equal(await reader.readFile("utf8"), "old text");
    assert.equal(await readFile(file, "utf8"), "new text, longer than the old");
  } finally {
    await reader.close();
  }
}));

test("a second publisher (an agent restarted) finds which backing file is published and rewrites the other", () => withDir(async (dir) => {
  const file = join(dir, "status.json");
  new Publisher(file).publish("from the first run");
  const reader = await open(file, "r");
  try {
    new Publisher(file).publish("from the second run");
    assert.equal(await reader.readFile("utf8"), "from the first run");
    assert.equal(await readFile(file, "utf8"), "from the second run");
  } finally {
    await reader.close();
  }
}));
