#!/usr/bin/env bash
# The Debian tools some tests call besides Node: installs the missing ones when run as root where apt-get
# exists (CI, a fresh container), otherwise names them and the command to install them. Run by `npm test`.
set -euo pipefail

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need gcc gcc                         # compiles plugin-nvidia's fake libnvidia-ml.so.1
need chromium chromium               # the dashboard's end-to-end tests (playwright-core drives it headless)
need shellcheck shellcheck           # deploy/*.sh
need systemd-analyze systemd         # verify deploy/systemd/resourcemonitor.service
# Compose files are parsed without a Docker engine: the compose plugin where present, else Debian's docker-compose.
docker compose version >/dev/null 2>&1 || need docker-compose docker-compose

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test prerequisites: installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "npm test needs ${missing[*]}: install them with  sudo apt-get install -y ${missing[*]}" >&2
exit 1
