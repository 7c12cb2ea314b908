#!/usr/bin/env bash
# Writes /etc/resourcemonitor/config, the original agent's KEY=VALUE file, by asking for each value
# or from flags, and can test it: one sample, then a probe object written to the bucket and read back.
set -euo pipefail

readonly EX_USAGE=64
CONFIG=/etc/resourcemonitor/config
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
readonly HERE

usage() {
  cat <<EOF
Usage: sudo $0 [options]

With no value option it asks for each value (current ones are the defaults). With --bucket or
--non-interactive it asks nothing: the flags, then the current file, then the defaults.

  --bucket NAME              S3_BUCKET_NAME (required)
  --region REGION            AWS_DEFAULT_REGION (default us-east-1)
  --interval SECONDS         UPLOAD_FREQUENCY_SECONDS, 1 to 86400 (default 60)
  --hostname NAME            HOSTNAME_OVERRIDE (default: the system hostname)
  --access-key-id ID         AWS_ACCESS_KEY_ID (leave out with an IAM role or ~/.aws)
  --secret-access-key KEY    AWS_SECRET_ACCESS_KEY
  --endpoint URL             AWS_ENDPOINT_URL_S3 (and S3_FORCE_PATH_STYLE=true), for an S3-compatible
                             store (MinIO, Ceph, R2, ...)
  --config FILE              the file to write (default /etc/resourcemonitor/config)
  --non-interactive          ask nothing
  --test                     check the configuration: 'resourcemonitor once', then write, read back and
                             delete a probe object in the bucket (alone: checks the existing file)
  -h, --help                 this text
EOF
}

die() {
  printf 'setup-config.sh: %s\n' "$*" >&2
  exit "${2:-1}"
}
usage_error() {
  printf 'setup-config.sh: %s\n' "$*" >&2
  exit "$EX_USAGE"
}

# Each check prints why a value is wrong, or nothing when it is fine.
bucket_problem() {
  local name=$1
  if [ ${#name} -lt 3 ] || [ ${#name} -gt 63 ]; then echo "must be 3 to 63 characters long"
  elif [[ ! $name =~ ^[a-z0-9][a-z0-9.-]*[a-z0-9]$ ]]; then echo "only lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
  elif [[ $name == *..* || $name == *.-* || $name == *-.* ]]; then echo "no two dots in a row and no dot next to a hyphen"
  elif [[ $name =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then echo "must not look like an IP address"
  elif [[ $name =~ ^(xn--|sthree-|amzn-s3-demo-) ]]; then echo "must not start with xn--, sthree- or amzn-s3-demo-"
  elif [[ $name =~ (-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$ ]]; then echo "must not end with an S3-reserved suffix"
  fi
}

interval_problem() {
  if [[ ! $1 =~ ^[0-9]+$ ]] || [ "${#1}" -gt 5 ] || [ "$1" -lt 1 ] || [ "$1" -gt 86400 ]; then
    echo "must be a whole number of seconds from 1 to 86400"
  fi
}

hostname_problem() {
  local name=$1
  if [ -z "$name" ]; then return; fi
  if [[ $name == */* || $name == *\\* || $name == *..* || $name =~ [[:cntrl:]] ]]; then echo "must not contain /, \\, .. or control characters"
  elif [ "$name" = list ]; then echo "\"list\" is taken by list.json"
  elif [ ${#name} -gt 253 ]; then echo "must be at most 253 characters"
  fi
}

region_problem() {
  [[ $1 =~ ^[a-z0-9]+(-[a-z0-9]+)*$ ]] || echo "lowercase letters, digits and hyphens, like us-east-1"
}

# Values are written unquoted, as the original agent's files are; both python-dotenv and systemd's
# EnvironmentFile= then read them the same way.
plain_problem() {
  [[ $1 =~ ^[^[:space:]\"\'\\\$\`#]*$ ]] || echo "must not contain spaces, quotes, backslashes, \$, \` or #"
}

endpoint_problem() {
  if [ -n "$1" ] && [[ ! $1 =~ ^https?://[^[:space:]\"\'\\]+$ ]]; then echo "must be an http:// or https:// URL"; fi
}

# current KEY [FALLBACK]: KEY's value in the current file (quotes and a trailing comment removed), else FALLBACK.
current() {
  local value=''
  if [ -r "$CONFIG" ]; then
    value=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\+\)\?$1[[:space:]]*=[[:space:]]*//p" "$CONFIG" | tail -n 1 |
      sed -e 's/[[:space:]]\+#.*$//' -e "s/^\"\(.*\)\"$/\1/" -e "s/^'\(.*\)'$/\1/")
  fi
  printf '%s' "${value:-${2:-}}"
}

# Lines of the current file that set keys this script does not manage; they are kept as they are.
other_lines() {
  [ -r "$CONFIG" ] || return 0
  grep -E '^[[:space:]]*(export[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=' "$CONFIG" |
    grep -vE "^[[:space:]]*(export[[:space:]]+)?($(printf '%s|' "${MANAGED[@]}")HOSTNAME)[[:space:]]*=" || true
}

readonly MANAGED=(S3_BUCKET_NAME AWS_DEFAULT_REGION UPLOAD_FREQUENCY_SECONDS HOSTNAME_OVERRIDE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_S3 S3_FORCE_PATH_STYLE)

# ask VARIABLE "question" DEFAULT CHECK [secret]: asks until CHECK finds nothing wrong.
ask() {
  local variable=$1 question=$2 default=$3 check=$4 secret=${5:-} answer problem shown
  shown=$default
  [ -n "$secret" ] && [ -n "$default" ] && shown="(keep the current one)"
  while :; do
    printf '%s%s: ' "$question" "${shown:+ [$shown]}" >&2
    if [ -n "$secret" ] && [ -t 0 ]; then
      IFS= read -r -s answer || die "no answer for \"$question\" (end of input)"
      printf '\n' >&2
    else
      IFS= read -r answer || die "no answer for \"$question\" (end of input)"
    fi
    answer=${answer:-$default}
    problem=$($check "$answer")
    if [ -z "$problem" ]; then
      printf -v "$variable" '%s' "$answer"
      return
    fi
    printf '  %s\n' "$problem" >&2
  done
}

check() {
  local what=$1 value=$2 checker=$3 problem
  problem=$($checker "$value")
  [ -z "$problem" ] || usage_error "$what \"$value\": $problem"
}

write_config() {
  local dir tmp
  dir=$(dirname "$CONFIG")
  mkdir -p "$dir"
  tmp=$(umask 077 && mktemp "$dir/.config.XXXXXX")
  {
    printf '# resourcemonitor configuration, written by setup-config.sh on %s.\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '# KEY=VALUE as the original agent read it; root-only (0600) because it may hold AWS keys.\n'
    printf 'S3_BUCKET_NAME=%s\n' "$BUCKET"
    printf 'AWS_DEFAULT_REGION=%s\n' "$REGION"
    printf 'UPLOAD_FREQUENCY_SECONDS=%s\n' "$INTERVAL"
    [ -z "$HOST" ] || printf 'HOSTNAME_OVERRIDE=%s\n' "$HOST"
    [ -z "$KEY_ID" ] || printf 'AWS_ACCESS_KEY_ID=%s\n' "$KEY_ID"
    [ -z "$SECRET" ] || printf 'AWS_SECRET_ACCESS_KEY=%s\n' "$SECRET"
    # S3-compatible stores mostly address buckets by path (<endpoint>/<bucket>/<key>).
    [ -z "$ENDPOINT" ] || printf 'AWS_ENDPOINT_URL_S3=%s\nS3_FORCE_PATH_STYLE=true\n' "$ENDPOINT"
    local others
    others=$(other_lines)
    [ -z "$others" ] || printf '\n# Kept from the previous file:\n%s\n' "$others"
  } >"$tmp"
  chmod 0600 "$tmp"
  if [ "$(id -u)" = 0 ]; then chown root:root "$tmp"; fi
  if [ -e "$CONFIG" ]; then
    (umask 077 && cp -p "$CONFIG" "$CONFIG.bak")
    printf 'kept the previous file as %s\n' "$CONFIG.bak"
  fi
  mv -f "$tmp" "$CONFIG"
  printf 'wrote %s (mode 0600%s)\n' "$CONFIG" "$([ "$(id -u)" = 0 ] && echo ", owner root")"
}

# The agent: next to this script when installed, else on PATH, else this checkout's.
agent() {
  local candidate
  for candidate in "${RESOURCEMONITOR_BIN:-}" "$HERE/resourcemonitor" "$(command -v resourcemonitor || true)" "$HERE/../packages/agent/bin/resourcemonitor.js"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      printf '%s' "$candidate"
      return
    fi
  done
  die "cannot find the resourcemonitor command; run deploy/install.sh first"
}

run_test() {
  local bin probe
  [ -r "$CONFIG" ] || die "cannot read $CONFIG (run as root, or write it first)"
  bin=$(agent)
  printf 'checking one sample: %s once --env-file %s\n' "$bin" "$CONFIG"
  if ! "$bin" once --env-file "$CONFIG" >/dev/null; then die "'resourcemonitor once' failed (see above)"; fi
  printf '  ok\n'
  probe=$HERE/s3-probe.mjs
  [ -f "$probe" ] || die "missing $probe"
  printf 'checking the bucket: writing, reading back and deleting a probe object\n'
  node "$probe" --env-file "$CONFIG" || die "the bucket check failed (see above)"
}

BUCKET='' REGION='' INTERVAL='' HOST='' KEY_ID='' SECRET='' ENDPOINT=''
ASK=1 TEST=0 GIVEN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bucket | --region | --interval | --hostname | --access-key-id | --secret-access-key | --endpoint | --config)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      case "$1" in
        --bucket) BUCKET=$2 ASK=0 ;;
        --region) REGION=$2 ;;
        --interval) INTERVAL=$2 ;;
        --hostname) HOST=$2 ;;
        --access-key-id) KEY_ID=$2 ;;
        --secret-access-key) SECRET=$2 ;;
        --endpoint) ENDPOINT=$2 ;;
        --config) CONFIG=$2 ;;
      esac
      [ "$1" = --config ] || GIVEN=1
      shift
      ;;
    --non-interactive | --yes | -y) ASK=0 ;;
    --test) TEST=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; usage_error "unknown option: $1" ;;
  esac
  shift
done

if [ "$(id -u)" != 0 ] && [ "$CONFIG" = /etc/resourcemonitor/config ]; then
  die "run as root (sudo $0): $CONFIG is root-only"
fi

# --test alone checks the file as it is.
if [ "$TEST" = 1 ] && [ "$GIVEN" = 0 ] && [ "$ASK" = 1 ]; then
  run_test
  exit 0
fi

if [ "$ASK" = 1 ]; then
  printf 'resourcemonitor configuration (%s); Enter keeps the value in brackets.\n' "$CONFIG" >&2
  ask BUCKET "S3 bucket name" "${BUCKET:-$(current S3_BUCKET_NAME)}" bucket_problem
  ask REGION "AWS region" "${REGION:-$(current AWS_DEFAULT_REGION us-east-1)}" region_problem
  ask INTERVAL "Seconds between samples" "${INTERVAL:-$(current UPLOAD_FREQUENCY_SECONDS 60)}" interval_problem
  ask HOST "Hostname in the bucket (empty: the system hostname)" "${HOST:-$(current HOSTNAME_OVERRIDE)}" hostname_problem
  ask KEY_ID "AWS access key ID (empty: IAM role or the SDK's default chain)" "${KEY_ID:-$(current AWS_ACCESS_KEY_ID)}" plain_problem
  if [ -n "$KEY_ID" ]; then
    ask SECRET "AWS secret access key" "${SECRET:-$(current AWS_SECRET_ACCESS_KEY)}" plain_problem secret
  fi
  ask ENDPOINT "S3 endpoint URL (empty: AWS)" "${ENDPOINT:-$(current AWS_ENDPOINT_URL_S3)}" endpoint_problem
else
  BUCKET=${BUCKET:-$(current S3_BUCKET_NAME)}
  REGION=${REGION:-$(current AWS_DEFAULT_REGION)}
  INTERVAL=${INTERVAL:-$(current UPLOAD_FREQUENCY_SECONDS)}
  HOST=${HOST:-$(current HOSTNAME_OVERRIDE)}
  KEY_ID=${KEY_ID:-$(current AWS_ACCESS_KEY_ID)}
  SECRET=${SECRET:-$(current AWS_SECRET_ACCESS_KEY)}
  ENDPOINT=${ENDPOINT:-$(current AWS_ENDPOINT_URL_S3)}
  [ -n "$BUCKET" ] || usage_error "--bucket is required"
fi
REGION=${REGION:-us-east-1}
INTERVAL=${INTERVAL:-60}
check "bucket name" "$BUCKET" bucket_problem
check "region" "$REGION" region_problem
check "interval" "$INTERVAL" interval_problem
check "hostname" "$HOST" hostname_problem
check "access key ID" "$KEY_ID" plain_problem
[ -z "$SECRET" ] || [ -z "$(plain_problem "$SECRET")" ] || usage_error "secret access key: $(plain_problem "$SECRET")"
check "endpoint" "$ENDPOINT" endpoint_problem
if [ -n "$KEY_ID" ] && [ -z "$SECRET" ]; then usage_error "an access key ID needs --secret-access-key"; fi

write_config
if [ "$TEST" = 1 ]; then run_test; fi
printf 'Apply it with: sudo systemctl restart resourcemonitor   (Docker: docker compose up -d)\n'
