#!/usr/bin/env bash
# Installs resourcemonitor as a systemd service from this checkout: the agent and its production
# dependencies in /opt/resourcemonitor, a system user, the unit, and a config template that is never
# overwritten. Run it again to upgrade; an unchanged checkout changes nothing.
set -euo pipefail

readonly SERVICE=resourcemonitor
readonly MIN_NODE=20.19
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE

usage() {
  cat <<EOF
Usage: sudo $0 [options]

  (no option)      install or upgrade
  --uninstall      remove the agent, the unit and the command link; keep the config and the data
  --purge          as --uninstall, and also remove /etc/resourcemonitor, /var/lib/resourcemonitor and the user
  --prefix DIR     where the agent goes (default /opt/resourcemonitor)
  --root DIR       install into DIR as if it were / (a staging tree or a test): no user is created and
                   systemctl is not called
  --no-build       use the checkout's existing build (packages/*/dist) instead of building it
  -h, --help       this text
EOF
}

say() { printf '%s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

ROOT=/
PREFIX=/opt/resourcemonitor
ACTION=install
PURGE=0
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) ACTION=uninstall ;;
    --purge) ACTION=uninstall PURGE=1 ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
    --prefix=*) PREFIX=${1#*=} ;;
    --root) ROOT=${2:?--root needs a directory}; shift ;;
    --root=*) ROOT=${1#*=} ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

case "$PREFIX" in
  /?*) PREFIX=${PREFIX%/} ;;
  *) die "--prefix must be an absolute directory other than /, got \"$PREFIX\"" ;;
esac
case "$ROOT" in
  /*) ;;
  *) ROOT=$(pwd)/$ROOT ;;
esac
ROOT=${ROOT%/}
# Under --root nothing outside DIR is touched: no user, no systemctl.
SYSTEM=0
[ -z "$ROOT" ] && SYSTEM=1

DEST=$ROOT$PREFIX
UNIT=$ROOT/etc/systemd/system/$SERVICE.service
CONF_DIR=$ROOT/etc/$SERVICE
CONF=$CONF_DIR/config
STATE_DIR=$ROOT/var/lib/$SERVICE
LINK=$ROOT/usr/local/bin/$SERVICE
readonly DEST UNIT CONF_DIR CONF STATE_DIR LINK SYSTEM

systemd_running() { [ "$SYSTEM" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

skipped() { say "  skipped (--root): $*"; }

check_node() {
  local node version
  node=$(command -v node) || die "Node.js >= $MIN_NODE is required and 'node' is not on PATH.
  Debian 13 / Ubuntu 24.04:  sudo apt install nodejs npm
  other systems:             https://nodejs.org/en/download (or your distribution's NodeSource packages)
Then run this script again."
  command -v npm >/dev/null || die "npm is required next to node ($node); install your distribution's npm package"
  version=$(node -p 'process.versions.node')
  node -e "const [a, b] = process.argv[1].split('.').map(Number), [x, y] = process.argv[2].split('.').map(Number);
    process.exit(a > x || (a === x && b >= y) ? 0 : 1)" "$version" "$MIN_NODE" ||
    die "Node.js >= $MIN_NODE is required, $node is $version; upgrade from https://nodejs.org/en/download or your distribution"
  case "$(readlink -f "$node")" in
    /root/* | /home/*) say "warning: $node lives under /root or /home, which the service cannot see (ProtectHome=yes); install Node.js system-wide" >&2 ;;
  esac
  NODE=$(readlink -f "$node")
}

build() {
  [ "$BUILD" = 1 ] || return 0
  say "building the checkout ($SOURCE)"
  (
    cd "$SOURCE"
    [ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
    npm run --silent build
  )
}

# Packs the packages as npm would publish them, then installs the tarballs with their production
# dependencies only, in a staging folder next to DEST.
stage() {
  local stage=$1 name args=()
  mkdir -p "$stage/packages" "$stage/bin"
  while read -r name; do args+=(--workspace "$name"); done < <(node "$SOURCE/deploy/lib/packages.mjs" closure "$SOURCE")
  (cd "$SOURCE" && npm pack "${args[@]}" --pack-destination "$stage/packages" --ignore-scripts --json --loglevel=error) >"$stage/packed.json"
  node "$SOURCE/deploy/lib/packages.mjs" manifest "$stage/packed.json" >"$stage/package.json"
  rm "$stage/packed.json"
  (cd "$stage" && npm install --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  cat >"$stage/bin/$SERVICE" <<EOF
#!/bin/sh
# The installed agent, run with the Node.js that was found at install time.
here=\$(dirname "\$(readlink -f "\$0")")
PATH="$(dirname "$NODE"):\$PATH" exec "\$here/../node_modules/resourcemonitor/bin/resourcemonitor.js" "\$@"
EOF
  install -m 0755 "$SOURCE/deploy/setup-config.sh" "$stage/bin/setup-config.sh"
  install -m 0644 "$SOURCE/deploy/s3-probe.mjs" "$stage/bin/s3-probe.mjs"
  chmod 0755 "$stage/bin/$SERVICE"
  # What was installed, as one digest: an identical re-install leaves everything as it is.
  (cd "$stage" && find packages bin package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1) >"$stage/.install-id"
}

install_agent() {
  local stage
  say "installing the agent into $DEST"
  stage=$(mktemp -d)
  STAGE=$stage
  trap 'rm -rf "$STAGE"' EXIT
  stage "$stage"
  if [ -f "$DEST/.install-id" ] && cmp -s "$stage/.install-id" "$DEST/.install-id"; then
    say "  unchanged"
    return
  fi
  if [ -e "$DEST" ] && [ ! -f "$DEST/.install-id" ]; then die "$DEST exists and was not installed by this script; move it away first"; fi
  chmod -R u=rwX,go=rX "$stage"
  # Swapped in whole, so a failed install leaves the previous one working.
  mkdir -p "$(dirname "$DEST")"
  rm -rf "$DEST.new" "$DEST.old"
  cp -R "$stage" "$DEST.new"
  if [ -e "$DEST" ]; then mv "$DEST" "$DEST.old"; fi
  mv "$DEST.new" "$DEST"
  rm -rf "$DEST.old"
  say "  installed resourcemonitor $("$DEST/bin/$SERVICE" --version 2>/dev/null)"
}

# Copies FROM to TO (mode MODE) unless TO already has that content; prints whether it changed.
place() {
  local from=$1 to=$2 mode=$3
  if cmp -s "$from" "$to"; then
    say "  $to unchanged"
    return 1
  fi
  mkdir -p "$(dirname "$to")"
  install -m "$mode" "$from" "$to"
  say "  wrote $to"
}

install_unit() {
  local unit
  unit=$(mktemp)
  sed "s#/opt/resourcemonitor#$PREFIX#g" "$SOURCE/deploy/systemd/$SERVICE.service" >"$unit"
  if place "$unit" "$UNIT" 0644; then
    if systemd_running; then
      systemctl daemon-reload
    elif [ "$SYSTEM" = 0 ]; then
      skipped "systemctl daemon-reload"
    else
      say "  systemd is not running here: the unit is installed but nothing was reloaded"
    fi
  fi
  rm -f "$unit"
}

create_user() {
  if [ "$SYSTEM" = 0 ]; then
    skipped "creating the system user $SERVICE"
  elif getent passwd "$SERVICE" >/dev/null; then
    say "  user $SERVICE exists"
  else
    useradd --system --user-group --no-create-home --home-dir "/var/lib/$SERVICE" --shell /usr/sbin/nologin \
      --comment "resourcemonitor agent" "$SERVICE"
    say "  created the system user $SERVICE"
  fi
}

install_config_template() {
  mkdir -p "$CONF_DIR"
  chmod 0755 "$CONF_DIR"
  if [ -e "$CONF" ]; then
    say "  kept the existing $CONF"
    return
  fi
  (umask 077 && cat >"$CONF") <<'EOF'
# resourcemonitor configuration (KEY=VALUE, the original agent's format).
# Write it with: sudo /opt/resourcemonitor/bin/setup-config.sh
# Without S3_BUCKET_NAME the agent keeps its store in /var/lib/resourcemonitor/store.

# S3_BUCKET_NAME=your-bucket-name
# UPLOAD_FREQUENCY_SECONDS=60
# HOSTNAME_OVERRIDE=server01
# AWS_DEFAULT_REGION=us-east-1
# AWS_ACCESS_KEY_ID=your_access_key
# AWS_SECRET_ACCESS_KEY=your_secret_key
EOF
  [ "$(id -u)" = 0 ] && chown root:root "$CONF"
  say "  wrote the template $CONF (mode 0600)"
}

install_link() {
  if [ "$(readlink "$LINK" 2>/dev/null)" = "$PREFIX/bin/$SERVICE" ]; then
    say "  $LINK unchanged"
  else
    mkdir -p "$(dirname "$LINK")"
    ln -sfn "$PREFIX/bin/$SERVICE" "$LINK"
    say "  linked $LINK"
  fi
}

next_steps() {
  cat <<EOF

Next steps:
  1. Configure:  sudo $PREFIX/bin/setup-config.sh          (or edit /etc/resourcemonitor/config)
     Check it:   sudo $PREFIX/bin/setup-config.sh --test
  2. Start:      sudo systemctl enable --now $SERVICE
  3. Watch:      journalctl -u $SERVICE -f
                 sudo $SERVICE status --state-dir /var/lib/$SERVICE/spool
EOF
}

do_install() {
  [ "$SYSTEM" = 0 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0), or give --root DIR to install into a directory"
  check_node
  build
  install_agent
  create_user
  install_unit
  install_config_template
  install_link
  next_steps
}

do_uninstall() {
  [ "$SYSTEM" = 0 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0 --uninstall)"
  local removed=0
  if [ -e "$UNIT" ]; then
    if systemd_running; then systemctl disable --now "$SERVICE.service" || true; fi
    rm -f "$UNIT"
    if systemd_running; then systemctl daemon-reload; fi
    say "removed $UNIT"
    removed=1
  fi
  if [ "$(readlink "$LINK" 2>/dev/null)" = "$PREFIX/bin/$SERVICE" ]; then
    rm -f "$LINK" && say "removed $LINK" && removed=1
  fi
  if [ -f "$DEST/.install-id" ]; then
    rm -rf "$DEST" && say "removed $DEST" && removed=1
  elif [ -e "$DEST" ]; then
    say "left $DEST alone: it was not installed by this script" >&2
  fi
  if [ "$PURGE" = 1 ]; then
    for path in "$CONF_DIR" "$STATE_DIR"; do
      if [ -e "$path" ]; then rm -rf "$path" && say "removed $path" && removed=1; fi
    done
    if [ "$SYSTEM" = 0 ]; then
      skipped "removing the user $SERVICE"
    elif getent passwd "$SERVICE" >/dev/null; then
      userdel "$SERVICE" && say "removed the user $SERVICE" && removed=1
    fi
  else
    for path in "$CONF_DIR" "$STATE_DIR"; do [ -e "$path" ] && say "kept $path (--purge removes it)"; done
  fi
  [ "$removed" = 1 ] || say "nothing to remove"
}

if [ "$ACTION" = install ]; then do_install; else do_uninstall; fi
