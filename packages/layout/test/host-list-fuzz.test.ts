import { test } from "node:test";
import assert from "node:assert/strict";
import { hostnameProblem, mergeHostList } from "../src/index.js";

const NOW = new Date("2025-08-05T14:30:22Z");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A small deterministic generator, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 6 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return (next() - 0.5) * 1e12;
    case 3: return new Date(NOW.getTime() - next() * 600_000).toISOString();
    case 4: return String.fromCharCode(...Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * 0x3000)));
    case 5: return "server-" + Math.floor(next() * 50);
    case 6: return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [String(randomValue(next, depth + 1)), randomValue(next, depth + 1)]));
  }
}

/** Every input: random bytes, random JSON of any shape, deep nesting, a valid list cut or spliced at random. */
function* inputs(): Generator<string> {
  const next = random(20250805);
  const valid = JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`host-${index}`, new Date(NOW.getTime() - index * 5000).toISOString()])));
  for (let round = 0; round < 400; round += 1) {
    yield Buffer.from(Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256))).toString("latin1");
    yield JSON.stringify(randomValue(next, 0));
    const cut = Math.floor(next() * valid.length);
    yield valid.slice(0, cut) + valid.slice(cut + Math.floor(next() * 20));
  }
  for (const depth of [100, 10_000, 1_000_000]) {
    yield "[".repeat(depth) + "]".repeat(depth);
    yield '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    yield "[".repeat(depth);
  }
  yield JSON.stringify(Object.fromEntries(Array.from({ length: 200_000 }, (_, index) => [`h${index}`, NOW.toISOString()])));
}

test("list.json fuzz: random bytes, wrong shapes, deep nesting, huge texts and broken lists never crash the merge, and the result is always a valid list with this host", () => {
  let count = 0;
  for (const text of inputs()) {
    count += 1;
    const merged = mergeHostList(text, "me", NOW);
    assert.equal(merged.list.me, "2025-08-05T14:30:22Z", text.slice(0, 80));
    for (const [name, stamp] of Object.entries(merged.list)) {
      assert.equal(hostnameProblem(name), undefined, `kept an invalid name ${JSON.stringify(name)}`);
      assert.match(stamp, ISO);
    }
  }
  assert.ok(count > 1200);
});

test("a valid list cut anywhere keeps every entry that is still whole", () => {
  const entries = Array.from({ length: 20 }, (_, index) => [`host-${index}`, new Date(NOW.getTime() - index * 5000).toISOString().replace(".000Z", "Z")] as const);
  const text = JSON.stringify(Object.fromEntries(entries));
  for (let cut = 1; cut < text.length; cut += 7) {
    const merged = mergeHostList(text.slice(0, cut), "me", NOW);
    const whole = entries.filter(([name, stamp]) => text.slice(0, cut).includes(`"${name}":"${stamp}"`));
    for (const [name, stamp] of whole) assert.equal(merged.list[name], stamp, `cut at ${cut}`);
  }
});
