#!/bin/sh
# Packs bench/fleet into one folder that runs on a machine with nothing but Linux: the harness and the agents
# bundled with esbuild (the built packages and their dependencies inlined), fauxqs split-bundled under
# node_modules (the S3 test server loads its modules by path), and this machine's node binary, gzipped.
# Usage (after `npm run build`): sh bench/fleet/bundle.sh [DIR]   (default bench/results/fleet-device)
#   then, on the other machine: gzip -dc DIR/node.gz > /tmp/node && chmod +x /tmp/node &&
#   cd DIR && /tmp/node run.mjs --workers 12 --fleet 1000:1:240:520:0:60:70
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/bench/results/fleet-device}
fauxqs=$root/node_modules/fauxqs/dist
banner="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
esbuild() { "$root/node_modules/.bin/esbuild" --bundle --platform=node --format=esm --log-level=warning --banner:js="$banner" "$@"; }
rm -rf "$out" && mkdir -p "$out/node_modules/fauxqs"
esbuild "$fauxqs/app.js" "$fauxqs/s3/s3Store.js" "$fauxqs/sqs/sqsStore.js" "$fauxqs/sns/snsStore.js" --splitting --outbase="$fauxqs" --outdir="$out/node_modules/fauxqs/dist"
echo '{"name":"fauxqs","type":"module","exports":{".":{"import":"./dist/app.js"}}}' > "$out/node_modules/fauxqs/package.json"
esbuild "$root/bench/fleet/run.mjs" --external:fauxqs --outfile="$out/run.mjs"
esbuild "$root/bench/fleet/agents.mjs" --outfile="$out/agents.mjs"
gzip -6 -c "$(command -v node)" > "$out/node.gz"
du -sh "$out"
