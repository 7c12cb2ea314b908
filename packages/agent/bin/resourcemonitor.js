#!/usr/bin/env -S node --no-opt --max-semi-space-size=2 --optimize-for-size
// --no-opt: an agent that wakes once a second gains nothing from V8's optimizing compiler, and leaving it
// out keeps steady RSS about 5 MB lower at the same CPU (BENCHMARKS.md). Not --lite-mode, which saves 3 MB
// more but also turns WebAssembly off, and with it fetch() (undici's parser), which plugins may use.
// --max-semi-space-size=2 (MB): a tick allocates tens of KB, yet V8 grew the young generation by 20+ MB
// in the first minutes of a run with the S3 sink (bench/soak); capped, RSS stays flat at the same CPU.
// --optimize-for-size: with small semi-spaces a little of each tick is promoted, and without this flag V8 let the
// old generation grow by ~0.75 MB a minute (RSS +7 MB in 10 minutes, no full GC yet); with it, a full GC runs
// every ~3 minutes and RSS stays within ~2 MB (bench/soak, BENCHMARKS.md).
import { main } from "../dist/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
