import { test } from "node:test";
import assert from "node:assert/strict";
import { redactSecrets } from "../src/index.js";

test("every header value of a sink is redacted whatever the header's name, and URL passwords and query values too", () => {
  const config = {
    sinks: [{ name: "http", url: "https://ingest:hunter2@example.test/v1/metrics?token=abc&team=ops", headers: { "X-Custom-Key": "k3y", "Content-Type": "application/json" } }],
    dataDir: "/var/lib/resourcemonitor",
  };
  const shown = JSON.stringify(redactSecrets(config));
  for (const secret of ["k3y", "hunter2", "abc"]) assert.ok(!shown.includes(secret), `${secret} in ${shown}`);
  assert.deepEqual(redactSecrets(config).sinks[0]?.headers, { "X-Custom-Key": "[redacted]", "Content-Type": "[redacted]" });
  assert.match(shown, /https:\/\/ingest:%5Bredacted%5D@example\.test\/v1\/metrics\?token=%5Bredacted%5D&team=%5Bredacted%5D/);
  assert.equal(redactSecrets(config).dataDir, "/var/lib/resourcemonitor");
  assert.equal(redactSecrets("https://example.test/plain"), "https://example.test/plain");
});
