#!/usr/bin/env -S node --lite-mode
// --lite-mode: an agent that wakes once a second gains nothing from V8's optimizing compilers, and
// leaving them out keeps steady RSS about 6 MB lower (bench/tick-cost.mjs, BENCHMARKS.md).
import { main } from "../dist/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
