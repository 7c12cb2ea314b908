import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { S3TestServer } from "@resourcemonitor/s3-test-server";
import { startDashboard, type Dashboard, type ErrorResponse, type FleetResponse } from "../src/index.js";
import { apiSuite } from "./api-suite.js";
import { startS3 } from "./s3.js";
import { seedFleet } from "./seed.js";

apiSuite("S3 store", async () => {
  const { server, store } = await startS3();
  return { store, close: () => server.close() };
});

let server: S3TestServer;
let dashboard: Dashboard;
const logged: string[] = [];

before(async () => {
  const started = await startS3();
  server = started.server;
  await seedFleet(started.store);
  const logger = { info: (line: string) => logged.push(`info ${line}`), warn: (line: string) => logged.push(`warn ${line}`) };
  dashboard = await startDashboard({ store: started.store, port: 0, logger });
});

after(async () => {
  await dashboard?.close();
  await server?.close();
});

async function fleet(): Promise<{ status: number; body: FleetResponse & ErrorResponse }> {
  const response = await fetch(new URL("/api/hosts", dashboard.url));
  return { status: response.status, body: (await response.json()) as FleetResponse & ErrorResponse };
}

test("access denied: every request says so with what to do, the log says it once, and once that it recovered", async () => {
  await server.setFault("error", { error: { status: 403, code: "AccessDenied", message: "Access Denied" } });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { status, body } = await fleet();
    assert.equal(status, 502);
    assert.equal(body.error.code, "access-denied");
    assert.match(body.error.message, /^s3:\/\/fleet-metrics: access denied: s3:/);
    assert.match(body.error.hint, /s3:ListBucket .* s3:GetObject/);
  }
  assert.equal(logged.filter((line) => line.startsWith("warn store read failed (access-denied)")).length, 1, logged.join("\n"));
  await server.setFault("none");
  const { status, body } = await fleet();
  assert.equal(status, 200);
  assert.equal(body.hosts.length, 4);
  assert.deepEqual(logged.slice(-1), ["info store s3://fleet-metrics readable again"]);
});

test("store unreachable: the error names it and says the page retries", async () => {
  await server.setFault("refuse");
  const { status, body } = await fleet();
  assert.equal(status, 502);
  assert.equal(body.error.code, "unreachable");
  assert.match(body.error.message, /ECONNREFUSED/);
  assert.match(body.error.hint, /did not answer/);
  await server.setFault("none");
  assert.equal((await fleet()).status, 200);
});
