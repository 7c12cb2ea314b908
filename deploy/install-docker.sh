#!/usr/bin/env bash
# Sets resourcemonitor up as a Docker container: checks Docker and Compose (and, with --gpu, the
# NVIDIA runtime), writes the configuration if there is none, builds the image, and starts it with --start.
set -euo pipefail

HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
readonly HERE
CONFIG=${RESOURCEMONITOR_CONFIG:-/etc/resourcemonitor/config}
readonly CONFIG

usage() {
  cat <<EOF
Usage: sudo $0 [--gpu] [--start]

  --gpu      use docker-compose.gpu.yml (NVIDIA GPUs; needs the NVIDIA Container Toolkit)
  --start    start the container once the image is built
  -h, --help this text

The configuration is $CONFIG (RESOURCEMONITOR_CONFIG names another file); when it is missing,
setup-config.sh asks for it.
EOF
}

die() {
  printf 'install-docker.sh: %s\n' "$*" >&2
  exit 1
}

COMPOSE_FILE=$HERE/docker/docker-compose.yml
START=0
while [ $# -gt 0 ]; do
  case "$1" in
    --gpu) COMPOSE_FILE=$HERE/docker/docker-compose.gpu.yml ;;
    --start) START=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

command -v docker >/dev/null || die "Docker is not installed. Debian/Ubuntu: sudo apt install docker.io docker-compose (or Docker's own packages: https://docs.docker.com/engine/install/)"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine: start it (sudo systemctl start docker), or run this as root or as a member of the docker group"
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  die "Docker Compose is missing: sudo apt install docker-compose (or docker-compose-plugin from Docker's packages)"
fi

if [[ $COMPOSE_FILE == *gpu* ]] && ! docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"'; then
  die "the Docker engine has no nvidia runtime: install the NVIDIA Container Toolkit, run 'sudo nvidia-ctk runtime configure --runtime=docker' and restart Docker (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html)"
fi

if [ ! -e "$CONFIG" ]; then
  printf 'No %s yet; writing it now.\n' "$CONFIG"
  "$HERE/setup-config.sh" --config "$CONFIG"
fi

export RESOURCEMONITOR_CONFIG=$CONFIG
"${COMPOSE[@]}" -f "$COMPOSE_FILE" build
if [ "$START" = 1 ]; then
  "${COMPOSE[@]}" -f "$COMPOSE_FILE" up -d
  printf '\nStarted. Logs: sudo %s -f %s logs -f\n' "${COMPOSE[*]}" "$COMPOSE_FILE"
else
  printf '\nBuilt. Start it with: sudo %s -f %s up -d\n' "${COMPOSE[*]}" "$COMPOSE_FILE"
fi
printf 'Health: docker ps (the HEALTHCHECK runs "resourcemonitor status"); config changes: edit %s, then up -d again.\n' "$CONFIG"
