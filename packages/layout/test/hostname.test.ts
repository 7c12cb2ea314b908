import { test } from "node:test";
import assert from "node:assert/strict";
import { hostnameProblem, validateHostname } from "../src/index.js";

test("ordinary hostnames pass and are returned", () => {
  for (const name of ["server01", "gpu-box.lab.example.com", "WORKSTATION", "host_1", "ü-rechner", "a", "listing", "list-2", "a.b", "x".repeat(253)]) {
    assert.equal(validateHostname(name), name);
  }
});

const BAD: [name: string, problem: RegExp][] = [
  ["", /is empty/],
  ["../x", /'\/'/],
  ["a/b", /'\/'/],
  ["a\\b", /or '\\'/],
  ["..", /'\.\.'/],
  ["a..b", /'\.\.'/],
  [".", /starts with '\.'/],
  [".hidden", /starts with '\.'/],
  ["tab\there", /control character/],
  ["nul\u0000", /control character/],
  ["bell\u0007", /control character/],
  ["line\nbreak", /control character/],
  ["del\u007f", /control character/],
  ["x".repeat(254), /longer than 253 bytes/],
  ["é".repeat(127), /longer than 253 bytes/],
  ["list", /list\.json/],
  ["LIST", /list\.json/],
];

for (const [name, problem] of BAD) {
  test(`hostname ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : name)} is refused with a message naming the problem`, () => {
    assert.throws(() => validateHostname(name), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^invalid hostname /);
      assert.match(error.message, problem);
      return true;
    });
  });
}

test("control characters are escaped in the message, not printed raw", () => {
  assert.throws(() => validateHostname("evil\u001b[2J"), (error: Error) => error.message.includes("\\u001b") && !error.message.includes("\u001b"));
});

test("hostnameProblem answers without throwing, also for non-strings", () => {
  assert.equal(hostnameProblem("server01"), undefined);
  assert.equal(hostnameProblem(42), "must be a string");
  assert.match(hostnameProblem("a/b") ?? "", /'\/'/);
});
