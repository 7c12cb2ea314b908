import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { updateHostList } from "./host-list.js";
import { isPreconditionFailed, type ObjectStore } from "./store.js";
import { writeSample } from "./write-sample.js";

export { MemoryStore } from "./memory-store.js";

export interface StoreUnderTest {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

/** Collects an async iterable of keys into an array. */
export async function listAll(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(prefix, startAfter === undefined ? {} : { startAfter })) keys.push(key);
  return keys;
}

async function rejectsPrecondition(work: Promise<unknown>, condition: "ifMatch" | "ifNoneMatch"): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(isPreconditionFailed(error), `expected PreconditionFailedError, got ${String(error)}`);
    assert.equal(error.condition, condition);
    return true;
  });
}

const HOSTS_AT_ONCE = 12;
const ROUNDS_PER_HOST = 3;

export interface ConformanceOptions {
  /** The store offers `update` (read-change-write under its lock): its tests run; without, the store must have none. */
  update?: boolean;
}

/** The store's `update`, which the test requires. */
function updateOf(store: ObjectStore): NonNullable<ObjectStore["update"]> {
  assert.ok(store.update, `${store.description} has no update`);
  return store.update.bind(store);
}

/** A view of `store` without `update`: the compare-and-swap path every store has. */
function withoutUpdate(store: ObjectStore): ObjectStore {
  return { description: store.description, get: (key) => store.get(key), put: (key, body, options) => store.put(key, body, options), list: (prefix, options) => store.list(prefix, options) };
}

/**
 * Registers the node:test tests every ObjectStore must pass. `makeStore` gives each test a fresh,
 * empty store and a way to remove it.
 */
export function objectStoreConformance(name: string, makeStore: () => Promise<StoreUnderTest>, options: ConformanceOptions = {}): void {
  const withStore = (work: (store: ObjectStore) => Promise<void>) => async () => {
    const { store, cleanup } = await makeStore();
    try {
      await work(store);
    } finally {
      await cleanup();
    }
  };

  describe(`ObjectStore conformance: ${name}`, () => {
    it("get of a missing key is undefined", withStore(async (store) => {
      assert.equal(await store.get("missing.json"), undefined);
      assert.equal(await store.get("no/such/folder/missing.json"), undefined);
    }));

    it("put then get returns the body and the version put returned", withStore(async (store) => {
      const body = `{"hostname":"héllo-🖥","note":"line one\\nline two"}\n`;
      const { version } = await store.put("roundtrip.json", body, { contentType: "application/json" });
      assert.deepEqual(await store.get("roundtrip.json"), { body, version });
      await store.put("empty.json", "");
      assert.equal((await store.get("empty.json"))?.body, "");
    }));

    it("the version changes on every put of a different body, also of the same length", withStore(async (store) => {
      const versions = new Set<string>();
      for (let round = 0; round < 6; round += 1) {
        const { version } = await store.put("versioned.json", `{"round":${round}}`);
        assert.ok(!versions.has(version), `version ${version} came back after round ${round}`);
        versions.add(version);
        assert.equal((await store.get("versioned.json"))?.version, version);
      }
    }));

    it("ifNoneMatch on a missing key creates it", withStore(async (store) => {
      const { version } = await store.put("created.json", "first", { ifNoneMatch: "*" });
      assert.deepEqual(await store.get("created.json"), { body: "first", version });
    }));

    it("ifNoneMatch on an existing key fails with PreconditionFailedError and keeps the object", withStore(async (store) => {
      const { version } = await store.put("taken.json", "first");
      await rejectsPrecondition(store.put("taken.json", "second", { ifNoneMatch: "*" }), "ifNoneMatch");
      assert.deepEqual(await store.get("taken.json"), { body: "first", version });
    }));

    it("ifMatch with a stale version fails with PreconditionFailedError and keeps the object", withStore(async (store) => {
      const stale = await store.put("cas.json", "one");
      const current = await store.put("cas.json", "two");
      await rejectsPrecondition(store.put("cas.json", "three", { ifMatch: stale.version }), "ifMatch");
      assert.deepEqual(await store.get("cas.json"), { body: "two", version: current.version });
    }));

    it("ifMatch with the current version replaces the object", withStore(async (store) => {
      const first = await store.put("cas.json", "one");
      const second = await store.put("cas.json", "two", { ifMatch: first.version });
      assert.notEqual(second.version, first.version);
      assert.deepEqual(await store.get("cas.json"), { body: "two", version: second.version });
      await rejectsPrecondition(store.put("cas.json", "three", { ifMatch: first.version }), "ifMatch");
    }));

    it("ifMatch on a missing key fails with PreconditionFailedError", withStore(async (store) => {
      const elsewhere = await store.put("other.json", "x");
      await rejectsPrecondition(store.put("missing.json", "y", { ifMatch: elsewhere.version }), "ifMatch");
      assert.equal(await store.get("missing.json"), undefined);
    }));

    it("of concurrent ifNoneMatch puts exactly one wins", withStore(async (store) => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => store.put("race.json", `writer ${index}`, { ifNoneMatch: "*" })));
      const winners = results.flatMap((result, index) => (result.status === "fulfilled" ? [index] : []));
      assert.equal(winners.length, 1, JSON.stringify(results));
      for (const result of results) if (result.status === "rejected") assert.ok(isPreconditionFailed(result.reason), String(result.reason));
      assert.equal((await store.get("race.json"))?.body, `writer ${winners[0]}`);
    }));

    it("of concurrent ifMatch puts from one version exactly one wins", withStore(async (store) => {
      const { version } = await store.put("race.json", "start");
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => store.put("race.json", `writer ${index}`, { ifMatch: version })));
      const winners = results.flatMap((result, index) => (result.status === "fulfilled" ? [index] : []));
      assert.equal(winners.length, 1, JSON.stringify(results));
      for (const result of results) if (result.status === "rejected") assert.ok(isPreconditionFailed(result.reason), String(result.reason));
      assert.equal((await store.get("race.json"))?.body, `writer ${winners[0]}`);
    }));

    it("list returns the keys under a prefix in byte order, each once, after startAfter", withStore(async (store) => {
      const keys = [
        "list.json",
        "server02.json",
        "server01.json",
        "history/server01/20250805_143122.json",
        "history/server01/20250805_143022.json",
        "history/server01/20250805_143022_1.json",
        "history/server02/20250805_143023.json",
      ];
      for (const key of keys) await store.put(key, "{}");
      assert.deepEqual(await listAll(store, ""), [...keys].sort());
      assert.deepEqual(await listAll(store, "history/server01/"), [
        "history/server01/20250805_143022.json",
        "history/server01/20250805_143022_1.json",
        "history/server01/20250805_143122.json",
      ]);
      assert.deepEqual(await listAll(store, "history/server01/", "history/server01/20250805_143022.json"), [
        "history/server01/20250805_143022_1.json",
        "history/server01/20250805_143122.json",
      ]);
      assert.deepEqual(await listAll(store, "", "history/server02/20250805_143023.json"), ["list.json", "server01.json", "server02.json"]);
      assert.deepEqual(await listAll(store, "server"), ["server01.json", "server02.json"]);
      assert.deepEqual(await listAll(store, "history/serv"), keys.filter((key) => key.startsWith("history/")).sort());
      assert.deepEqual(await listAll(store, "nothing/here/"), []);
    }));

    it("keys with nested paths: stored, read and listed in byte order next to their neighbours", withStore(async (store) => {
      const keys = ["a/b/c/d.json", "a.json", "a-b.json", "a0.json", "a/b.json", "a/b/c.json", "a/b/c/d/e.json"];
      for (const key of keys) await store.put(key, key);
      for (const key of keys) assert.equal((await store.get(key))?.body, key);
      assert.deepEqual(await listAll(store, ""), ["a-b.json", "a.json", "a/b.json", "a/b/c.json", "a/b/c/d.json", "a/b/c/d/e.json", "a0.json"]);
      assert.deepEqual(await listAll(store, "a/b/"), ["a/b/c.json", "a/b/c/d.json", "a/b/c/d/e.json"]);
      assert.deepEqual(await listAll(store, "", "a/b/c.json"), ["a/b/c/d.json", "a/b/c/d/e.json", "a0.json"]);
    }));

    it(`${HOSTS_AT_ONCE} hosts updating list.json at once, ${ROUNDS_PER_HOST} times each, lose no host`, withStore(async (store) => {
      const hosts = Array.from({ length: HOSTS_AT_ONCE }, (_, index) => `host-${String(index).padStart(2, "0")}`);
      const options = { prefix: "fleet", maxAttempts: 500, baseDelayMs: 1, maxDelayMs: 20 };
      await Promise.all(hosts.map(async (host) => {
        for (let round = 0; round < ROUNDS_PER_HOST; round += 1) {
          const update = await updateHostList(store, host, new Date(), options);
          assert.ok(host in update.list);
        }
      }));
      const stored = await store.get("fleet/list.json");
      assert.ok(stored, "fleet/list.json exists");
      assert.deepEqual(Object.keys(JSON.parse(stored.body) as Record<string, string>).sort(), hosts);
    }));

    if (!options.update) {
      it("has no update (the conformance options say so)", withStore(async (store) => {
        assert.equal(store.update, undefined, "this store has update: pass { update: true } to objectStoreConformance to test it");
      }));
    } else {
      it("update passes the current text to change and writes what it returns; undefined writes nothing", withStore(async (store) => {
        const update = updateOf(store);
        assert.deepEqual(await update("counter.json", (current) => {
          assert.equal(current, undefined);
          return "1";
        }), { current: undefined, written: true });
        assert.deepEqual(await update("counter.json", (current) => String(Number(current) + 1)), { current: "1", written: true });
        assert.equal((await store.get("counter.json"))?.body, "2");
        assert.deepEqual(await update("counter.json", () => undefined), { current: "2", written: false });
        assert.equal((await store.get("counter.json"))?.body, "2");
        assert.deepEqual(await update("nested/missing.json", () => undefined), { current: undefined, written: false });
        assert.equal(await store.get("nested/missing.json"), undefined);
      }));

      it("an update whose change throws writes nothing and leaves the key free for the next", withStore(async (store) => {
        const update = updateOf(store);
        await store.put("guarded.json", "kept");
        await assert.rejects(update("guarded.json", () => {
          throw new Error("no");
        }), /no/);
        assert.equal((await store.get("guarded.json"))?.body, "kept");
        assert.deepEqual(await update("guarded.json", (current) => `${current}!`), { current: "kept", written: true });
      }));

      it(`${HOSTS_AT_ONCE} hosts updating list.json at once, half through update and half by compare-and-swap, lose no host`, withStore(async (store) => {
        const hosts = Array.from({ length: HOSTS_AT_ONCE }, (_, index) => `host-${String(index).padStart(2, "0")}`);
        const options = { maxAttempts: 500, baseDelayMs: 1, maxDelayMs: 20 };
        const casOnly = withoutUpdate(store);
        await Promise.all(hosts.map(async (host, index) => {
          for (let round = 0; round < ROUNDS_PER_HOST; round += 1) {
            const update = await updateHostList(index % 2 === 0 ? store : casOnly, host, new Date(), options);
            assert.ok(host in update.list);
          }
        }));
        assert.deepEqual(Object.keys(JSON.parse((await store.get("list.json"))?.body ?? "{}") as Record<string, string>).sort(), hosts);
      }));
    }

    it("writeSample stores history, latest and list.json, and a second document of the same second gets _1", withStore(async (store) => {
      const first = { timestamp: "2025-08-05T14:30:22Z", hostname: "server01", n: 1 };
      const second = { ...first, n: 2 };
      const now = new Date("2025-08-05T14:30:23Z");
      const written = await writeSample(store, first, JSON.stringify(first), { now });
      await writeSample(store, second, JSON.stringify(second), { now });
      assert.equal(written.historyKey, "history/server01/20250805_143022.json");
      assert.deepEqual(await listAll(store, "history/"), ["history/server01/20250805_143022.json", "history/server01/20250805_143022_1.json"]);
      assert.equal((await store.get("server01.json"))?.body, JSON.stringify(second));
      assert.deepEqual(JSON.parse((await store.get("list.json"))?.body ?? ""), { server01: "2025-08-05T14:30:23Z" });
    }));
  });
}
