import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../src/scheduler.js";

const INTERVAL = 200;

test("ticks land on wall-clock multiples of the interval, without drift", async () => {
  const slots: number[] = [];
  const lateness: number[] = [];
  const scheduler = new Scheduler({
    intervalMs: INTERVAL,
    run: async (slot) => {
      slots.push(slot.getTime());
      lateness.push(Date.now() - slot.getTime());
      await new Promise((resolve) => setTimeout(resolve, 30)); // work inside the slot must not shift the next one
    },
    onError: (error) => assert.fail(String(error)),
  });
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL * 8 + 50));
  await scheduler.stop();
  assert.ok(slots.length >= 7, `ran ${slots.length} ticks`);
  for (const slot of slots) assert.equal(slot % INTERVAL, 0);
  for (let index = 1; index < slots.length; index += 1) assert.equal((slots[index] ?? 0) - (slots[index - 1] ?? 0), INTERVAL);
  for (const late of lateness) assert.ok(late >= 0 && late < 50, `fired ${late} ms after its slot`);
  assert.equal(scheduler.stats.skipped, 0);
});

test("a tick that overruns skips and counts the missed slots instead of bunching them, and reports which", async () => {
  const slots: number[] = [];
  const skips: [number, number, number][] = [];
  const scheduler = new Scheduler({
    intervalMs: INTERVAL,
    run: async (slot) => {
      slots.push(slot.getTime());
      if (slots.length === 2) await new Promise((resolve) => setTimeout(resolve, INTERVAL * 2.5));
    },
    onError: (error) => assert.fail(String(error)),
    onSkip: (first, count, overran) => skips.push([first.getTime(), count, overran.getTime()]),
  });
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL * 7 + 50));
  await scheduler.stop();
  const second = slots[1] ?? 0;
  const third = slots[2] ?? 0;
  assert.equal((third - second) / INTERVAL, 3, `slots ${slots.map((slot) => slot % 100000)}`);
  assert.equal(scheduler.stats.skipped, 2);
  assert.deepEqual(skips, [[second + INTERVAL, 2, second]]);
  for (let index = 3; index < slots.length; index += 1) assert.equal((slots[index] ?? 0) - (slots[index - 1] ?? 0), INTERVAL);
});

test("a tick that ends within graceMs into the next slot lets that slot run, late, instead of skipping it", async () => {
  const slots: number[] = [];
  const lateness: number[] = [];
  const scheduler = new Scheduler({
    intervalMs: INTERVAL,
    graceMs: INTERVAL / 2,
    run: async (slot) => {
      slots.push(slot.getTime());
      lateness.push(Date.now() - slot.getTime());
      if (slots.length === 2) await new Promise((resolve) => setTimeout(resolve, INTERVAL + 30)); // ends ~30 ms into the third slot
    },
    onError: (error) => assert.fail(String(error)),
  });
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL * 6 + 50));
  await scheduler.stop();
  assert.ok(slots.length >= 5, `ran ${slots.length} ticks`);
  for (let index = 1; index < slots.length; index += 1) assert.equal((slots[index] ?? 0) - (slots[index - 1] ?? 0), INTERVAL, `slots ${slots.map((slot) => slot % 100000)}`);
  assert.equal(scheduler.stats.skipped, 0);
  assert.ok((lateness[2] ?? 0) >= 25, `the third slot ran ${lateness[2]} ms late, after the second tick ended`);
});

test("stop waits for the tick in flight and nothing runs after it", async () => {
  let finished = 0;
  const scheduler = new Scheduler({
    intervalMs: INTERVAL,
    run: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      finished += 1;
    },
    onError: (error) => assert.fail(String(error)),
  });
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL + 20));
  const started = scheduler.stats.ticks;
  await scheduler.stop();
  assert.equal(finished, started);
  await new Promise((resolve) => setTimeout(resolve, INTERVAL * 2));
  assert.equal(scheduler.stats.ticks, started);
});

test("a failing tick is reported and the schedule goes on", async () => {
  const errors: unknown[] = [];
  const scheduler = new Scheduler({ intervalMs: INTERVAL, run: async () => { throw new Error("tick failed"); }, onError: (error) => errors.push(error) });
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL * 3 + 50));
  await scheduler.stop();
  assert.ok(errors.length >= 2);
});
