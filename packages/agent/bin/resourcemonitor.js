#!/usr/bin/env -S node --no-opt
// --no-opt: an agent that wakes once a second gains nothing from V8's optimizing compiler, and leaving it
// out keeps steady RSS about 5 MB lower at the same CPU (BENCHMARKS.md). Not --lite-mode, which saves 3 MB
// more but also turns WebAssembly off, and with it fetch() (undici's parser), which plugins may use.
import { main } from "../dist/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
