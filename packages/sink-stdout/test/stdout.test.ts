import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { compile, type MetricsDocument } from "@resourcemonitor/runtime";
import { captureLogger, conformanceDocuments, sinkConformance } from "@resourcemonitor/runtime/testing";
import stdoutSink, { createStdoutSink, stdoutSinkPlugin } from "../src/index.js";

const AGENT = fileURLToPath(new URL("../../agent/bin/resourcemonitor.js", import.meta.url));

sinkConformance("sink-stdout (on a pipe)", async () => {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return {
    definition: stdoutSinkPlugin(stream),
    received: async () => text.split("\n").filter((line) => line !== ""),
    cleanup: async () => void stream.destroy(),
  };
});

test("the default export is the stdout sink, with no options", () => {
  assert.equal(stdoutSink.name, "stdout");
  assert.deepEqual(stdoutSink.optionsSchema.properties, {});
});

test("a reader that went away fails every later write with the first cause, logged once, without crashing", async () => {
  const reader = spawn("true", { stdio: ["pipe", "ignore", "ignore"] });
  await once(reader, "exit");
  const { logger, lines } = captureLogger();
  const sink = createStdoutSink(reader.stdin, logger);
  const errors: string[] = [];
  for (const document of conformanceDocuments(3)) await sink.write(JSON.stringify(document)).catch((error: Error) => errors.push(error.message));
  assert.equal(errors.length, 3);
  // Node destroys a child's stdin once the child has exited; a reader that exits mid-stream gives EPIPE instead.
  assert.match(errors[0] ?? "", /EPIPE|destroyed/);
  assert.deepEqual(new Set(errors).size, 1, "later writes fail with the first cause");
  assert.equal(lines.filter((line) => line.level === "error" && line.msg.startsWith("standard output failed")).length, 1, JSON.stringify(lines));
});

test("`resourcemonitor run` with `sinks: [stdout]` prints one JSON document per line that parses and validates", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "rm-sink-stdout-"));
  const validate = compile({
    type: "object",
    required: ["timestamp", "hostname", "cpu", "memory"],
    properties: { hostname: { const: "stdout-host" }, timestamp: { type: "string", pattern: "Z$" }, cpu: { type: "object", required: ["usage_percent"] } },
  });
  try {
    await writeFile(join(cwd, "resourcemonitor.config.yaml"), "interval: 1\nhostname: stdout-host\ncollectors: [cpu, memory]\nsinks: [stdout]\n");
    const env: NodeJS.ProcessEnv = { ...process.env, RESOURCEMONITOR_ENV_FILE: "/nonexistent/resourcemonitor-env" };
    delete env.S3_BUCKET_NAME;
    const agent = spawn(process.execPath, [AGENT, "run"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    agent.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const twoLines = new Promise<void>((resolve) => {
      agent.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.split("\n").length > 2) resolve();
      });
    });
    const exited = once(agent, "exit") as Promise<[number | null]>;
    const deadline = setTimeout(() => agent.kill("SIGKILL"), 8000);
    await Promise.race([twoLines, exited]);
    agent.kill("SIGTERM");
    const [code] = await exited;
    clearTimeout(deadline);
    assert.equal(code, 0, stderr);
    const lines = stdout.split("\n").filter((line) => line !== "");
    assert.ok(lines.length >= 2, `two lines within 8 s; got ${JSON.stringify(stdout)}; stderr ${stderr}`);
    const documents = lines.map((line) => JSON.parse(line) as MetricsDocument);
    for (const document of documents) assert.ok(validate(document), JSON.stringify(validate.errors));
    assert.notEqual(documents[0]?.timestamp, documents[1]?.timestamp, "one line per tick");
    assert.match(stderr, /"level":30/, "logs stay on stderr");
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
