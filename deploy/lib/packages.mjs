// install.sh's two uses of package.json, kept out of shell quoting.
//   node packages.mjs closure SOURCE          the agent's package and every workspace package it needs, one per line
//   node packages.mjs manifest PACKED.json    package.json (on stdout) that installs the packed tarballs
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [command, path] = process.argv.slice(2);
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

if (command === "closure") {
  const read = (dir) => readJson(join(path, dir, "package.json"));
  const byName = new Map(read(".").workspaces.map((dir) => [read(dir).name, read(dir)]));
  const wanted = new Set(["resourcemonitor"]);
  for (const name of wanted) {
    const pkg = byName.get(name);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) if (byName.has(dep)) wanted.add(dep);
  }
  process.stdout.write([...wanted].join("\n") + "\n");
} else if (command === "manifest") {
  const packed = readJson(path);
  const dependencies = Object.fromEntries(packed.map(({ name, filename }) => [name, `file:packages/${filename}`]).sort());
  process.stdout.write(JSON.stringify({ name: "resourcemonitor-install", private: true, dependencies }, null, 2) + "\n");
} else {
  process.stderr.write(`usage: node packages.mjs closure SOURCE | manifest PACKED.json\n`);
  process.exitCode = 64;
}
