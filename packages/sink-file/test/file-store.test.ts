import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PreconditionFailedError } from "@resourcemonitor/layout";
import { listAll, objectStoreConformance } from "@resourcemonitor/layout/testing";
import { createFileStore, fileKeyProblem } from "../src/file-store.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "rm-file-store-"));
}

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every name under `dir`, hidden ones included, as `a/b` paths. */
async function everything(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((entry) => entry.replaceAll("\\", "/")).sort();
}

objectStoreConformance("file store", async () => {
  const dir = await tempDir();
  return { store: createFileStore(join(dir, "store")), cleanup: () => rm(dir, { recursive: true, force: true }) };
}, { update: true });

describe("file store specifics", () => {
  test("keys are files under the directory, folders created as needed, no temp file left behind", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    await store.put("history/server01/20250805_143022.json", "a", { ifNoneMatch: "*" });
    await store.put("server01.json", "b");
    const first = await store.put("list.json", "c", { ifNoneMatch: "*" });
    await store.put("list.json", "d", { ifMatch: first.version });
    assert.equal(await readFile(join(dir, "history", "server01", "20250805_143022.json"), "utf8"), "a");
    assert.equal(await readFile(join(dir, "list.json"), "utf8"), "d");
    assert.deepEqual(await everything(dir), [".list.json.lockbase", "history", "history/server01", "history/server01/20250805_143022.json", "list.json", "server01.json"]);
  }));

  test("latest written with the body just created in history is the same file, not a copy", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    const history = join(dir, "history", "h", "20250805_143022.json");
    await store.put("history/h/20250805_143022.json", "sample 1", { ifNoneMatch: "*" });
    await store.put("h.json", "sample 1");
    const [historyStat, latestStat] = await Promise.all([stat(history), stat(join(dir, "h.json"))]);
    assert.equal(latestStat.ino, historyStat.ino);
    assert.equal(historyStat.nlink, 2);
    await store.put("history/h/20250805_143023.json", "sample 2", { ifNoneMatch: "*" });
    await store.put("h.json", "other text");
    assert.equal(await readFile(join(dir, "h.json"), "utf8"), "other text");
    assert.equal(await readFile(join(dir, "history", "h", "20250805_143023.json"), "utf8"), "sample 2", "history keeps its own text");
    assert.equal((await stat(history)).nlink, 1, "the old latest name is gone, the history file stays");
    assert.equal(await readFile(history, "utf8"), "sample 1");
  }));

  test("list skips temp files, lock folders and every other hidden name", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    await store.put("history/h/20250805_143022.json", "{}");
    await writeFile(join(dir, ".list.json.4242.0a1b2c3d.tmp"), "half");
    await writeFile(join(dir, "history", "h", ".20250805_143023.json.4242.0a1b2c3d.tmp"), "half");
    await mkdir(join(dir, ".list.json.lock"));
    await mkdir(join(dir, ".git", "objects"), { recursive: true });
    await writeFile(join(dir, ".git", "objects", "x.json"), "{}");
    assert.deepEqual(await listAll(store, ""), ["history/h/20250805_143022.json"]);
    assert.deepEqual(await listAll(store, "history/h/"), ["history/h/20250805_143022.json"]);
  }));

  test("keys that could escape the directory or hit its hidden files are refused", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    for (const key of ["../escape.json", "a/../../escape.json", "/etc/passwd", "a//b.json", "a/", "", ".list.json.lock", "history/.x/y.json", "a\\b.json", "nul\0.json"]) {
      await assert.rejects(store.put(key, "x"), /cannot be stored in/, JSON.stringify(key));
      await assert.rejects(store.get(key), /cannot be stored in/, JSON.stringify(key));
    }
    await assert.rejects(listAll(store, "../"), /cannot be stored in/);
    assert.deepEqual(await everything(dir), []);
    assert.equal(fileKeyProblem("history/server01/20250805_143022.json"), undefined);
    assert.match(fileKeyProblem(`${"x".repeat(256)}.json`) ?? "", /longer than 255 bytes/);
  }));

  test("a key in a folder already written to is still checked in full: its own name, and any '/' after the folder", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    await store.put("history/h/a.json", "{}");
    const bad = ["history/h/.a.json.lock", "history/h/", "history/h//a.json", "history/h/..", "history/h/a\\b.json", "history/h/nul\0.json", `history/h/${"x".repeat(256)}`];
    for (const key of bad) {
      await assert.rejects(store.put(key, "x"), /cannot be stored in/, JSON.stringify(key));
      await assert.rejects(store.get(key), /cannot be stored in/, JSON.stringify(key));
    }
    await store.put("history/h/b.json", "{}");
    assert.deepEqual(await everything(dir), ["history", "history/h", "history/h/a.json", "history/h/b.json"]);
  }));

  test("get of a folder or of a path through a file is undefined", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    await store.put("history/h/a.json", "{}");
    assert.equal(await store.get("history"), undefined);
    assert.equal(await store.get("history/h/a.json/deeper.json"), undefined);
  }));

  test("a version read with get matches what put returned, and an outside rewrite changes it", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    const { version } = await store.put("list.json", "{}");
    assert.equal((await store.get("list.json"))?.version, version);
    await writeFile(join(dir, "list.json"), '{"x":"2025-01-01T00:00:00Z"}');
    const after = await store.get("list.json");
    assert.notEqual(after?.version, version, "an edit in place changes the version");
    await assert.rejects(store.put("list.json", "[]", { ifMatch: version }), PreconditionFailedError);
  }));

  // ext4 hands a freed inode number to the next new file at once: versions must not depend on inodes.
  test("versions never repeat over many same-size rewrites, though the file system may reuse inode numbers", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    const seen = new Set<string>();
    let { version } = await store.put("list.json", "round 000");
    seen.add(version);
    for (let round = 1; round < 300; round += 1) {
      const body = `round ${String(round).padStart(3, "0")}`;
      ({ version } = round % 2 ? await store.put("list.json", body) : await store.put("list.json", body, { ifMatch: version }));
      assert.ok(!seen.has(version), `version ${version} came back in round ${round}`);
      seen.add(version);
    }
  }));

  test("ifMatch waits for a held lock and then writes", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    const { version } = await store.put("list.json", "one");
    await mkdir(join(dir, ".list.json.lock"));
    const write = store.put("list.json", "two", { ifMatch: version });
    await new Promise((done) => setTimeout(done, 100));
    assert.equal(await readFile(join(dir, "list.json"), "utf8"), "one", "no write while the lock is held");
    await rm(join(dir, ".list.json.lock"), { recursive: true });
    await write;
    assert.equal(await readFile(join(dir, "list.json"), "utf8"), "two");
  }));

  for (const [kind, takeLock] of [
    ["a lock", (dir: string) => link(join(dir, ".list.json.lockbase"), join(dir, ".list.json.lock"))],
    ["an earlier version's lock folder", (dir: string) => mkdir(join(dir, ".list.json.lock"))],
  ] as const) {
    test(`${kind} left by a crashed writer is removed once stale`, () => withDir(async (dir) => {
      const store = createFileStore(dir, { lockStaleMs: 300, lockTimeoutMs: 5_000 });
      const { version } = await store.put("list.json", "one", { ifNoneMatch: "*" });
      await store.put("list.json", "two", { ifMatch: version });
      await takeLock(dir);
      const started = Date.now();
      await store.put("list.json", "three", { ifMatch: (await store.get("list.json"))?.version });
      assert.ok(Date.now() - started >= 250, "waited until the lock was stale");
      assert.equal(await readFile(join(dir, "list.json"), "utf8"), "three");
      await assert.rejects(stat(join(dir, ".list.json.lock")), { code: "ENOENT" });
    }));
  }

  test("a lock held longer than the timeout fails the write with a message naming the lock", () => withDir(async (dir) => {
    const store = createFileStore(dir, { lockStaleMs: 5_000, lockTimeoutMs: 150 });
    const { version } = await store.put("list.json", "one");
    await mkdir(join(dir, ".list.json.lock"));
    await assert.rejects(store.put("list.json", "two", { ifMatch: version }), /timed out after 150 ms waiting for the lock .*\.list\.json\.lock/);
    assert.equal(await readFile(join(dir, "list.json"), "utf8"), "one");
  }));

  test("ifMatch and ifNoneMatch together are refused", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    await assert.rejects(store.put("a.json", "x", { ifMatch: "1-2-3", ifNoneMatch: "*" }), TypeError);
  }));

  test("a long key gets short hidden temp and lock names", () => withDir(async (dir) => {
    const store = createFileStore(dir);
    const key = `${"h".repeat(250)}.json`;
    const { version } = await store.put(key, "one");
    await store.put(key, "two", { ifMatch: version });
    assert.equal((await store.get(key))?.body, "two");
    const hidden = (await everything(dir)).filter((name) => name !== key);
    assert.deepEqual(hidden, [".be4da113316c0983fcf6c765b4ff970c.lockbase"], "only the permanent lock base, under a short name");
  }));

  test("the description is the absolute directory", () => {
    assert.equal(createFileStore("/var/lib/resourcemonitor/").description, "/var/lib/resourcemonitor");
    assert.ok(createFileStore("relative/dir").description.startsWith("/"));
  });
});
