import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { LateTimer } from "../src/late-timer.js";
import { timersArmedDuring } from "../src/testing.js";

test("timers created and cancelled within one turn arm no Node timer", async () => {
  const fired: string[] = [];
  const { armed } = await timersArmedDuring(async () => {
    const timers = [new LateTimer(50, () => fired.push("a")), new LateTimer(60, () => fired.push("b"))];
    for (const timer of timers) timer.cancel();
  });
  assert.deepEqual(armed, []);
  await sleep(80);
  assert.deepEqual(fired, []);
});

test("the timers of one turn still running at its end are armed for what is left of their time; a cancelled one never fires", async () => {
  const fired: string[] = [];
  const { armed, result: timers } = await timersArmedDuring(async () => [
    new LateTimer(30, () => fired.push("a")),
    new LateTimer(40, () => fired.push("b")),
    new LateTimer(50, () => fired.push("c")),
  ]);
  assert.equal(armed.length, 3);
  const asked = [30, 40, 50];
  armed.forEach((ms, index) => assert.ok(ms <= (asked[index] ?? 0) && ms > (asked[index] ?? 0) - 20, `armed for ${ms} ms, asked ${asked[index]}`));
  timers[1]?.cancel();
  await sleep(80);
  assert.deepEqual(fired, ["a", "c"]);
});

test("a timer created in a later turn gets an immediate of its own", async () => {
  const fired: string[] = [];
  new LateTimer(10, () => fired.push("first"));
  await sleep(0);
  new LateTimer(10, () => fired.push("second"));
  await sleep(50);
  assert.deepEqual(fired, ["first", "second"]);
});
