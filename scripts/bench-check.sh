#!/usr/bin/env bash
# Benchmark of read-only commands against many backups (issue #23, item 3): `drctl check` on
# TARGETS targets with MANIFESTS manifests in all, in one and in three S3 regions (buckets of one
# moto on loopback), with a cold read cache (emptied first) and a warm one (the same check again).
# For each it prints the wall seconds, the machine's CPU seconds (scripts/bench-lib.sh), moto's
# own CPU seconds and the requests moto served (counted in its log).
#
#   DRCTL=.build/release/drctl scripts/bench-check.sh
#   DRCTL_BASE=/path/to/main/drctl ...   # also measures that binary (e.g. today's main) alike
#   MANIFESTS="500 5000" TARGETS=50      # the defaults
#
# The backups are one real backup of target t0 (made by drctl) whose manifest
# scripts/bench-check-fill.py copies under many ids and targets, edited so that every copy keeps
# the readers' rules and sealed again with the bench's secret key (a version 2 repository refuses
# a copy that is not); check reads manifests, records and locks, never the data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-venv.sh   # moto, boto3, aws-cli and cryptography (scripts/install-deps.sh)
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}/check
targets=${TARGETS:-50}
sizes=${MANIFESTS:-500 5000}
drctl=${DRCTL:-$(scripts/build-release.sh)}
base=${DRCTL_BASE:-}
rm -rf "$bench"; mkdir -p "$bench"
work=$bench/work
mkdir -p "$work"
cleanup() { [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=moto-does-not-check AWS_DEFAULT_REGION=us-east-1
"$drctl" keygen --out "$work/key" >/dev/null

policy() {   # FILE REGION...
  local file=$1; shift
  {
    echo "version: 1"
    echo "repository:"
    echo "  regions:"
    for region in "$@"; do
      echo "    - {name: $region, url: s3://bench-$region/drctl, endpoint: $endpoint, path_style: true}"
    done
    echo "  encryption: {key_file: $work/key}"
    echo "targets:"
    for ((t = 0; t < targets; t++)); do
      echo "  - {name: t$t, kind: command, command: [echo, hello], schedule: \"0 * * * *\"}"
    done
  } > "$file"
}

# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh
served() { grep -c 'HTTP/1.1" ' "$work/moto.log" || true; }
checks() {   # NAME BINARY POLICY: a cold check, then a warm one
  local name=$1 binary=$2 file=$3 before
  rm -rf "$work/cache"
  for state in cold warm; do
    before=$(served)
    DRCTL_CACHE_DIR=$work/cache measure "$name/$state" sh -c '"$0" check --policy "$1" >/dev/null 2>&1 || true' "$binary" "$file"
    sed -i "\$s/\$/ $(( $(served) - before ))/" "$work/results"
  done
}

for size in $sizes; do
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" && wait "$moto_pid" 2>/dev/null || true
  port=$(free_port)
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done
  endpoint=http://127.0.0.1:$port
  watch_pid=$moto_pid
  for region in r1 r2 r3; do aws --endpoint-url "$endpoint" s3 mb "s3://bench-$region" >/dev/null; done
  policy "$work/one.yaml" r1
  policy "$work/three.yaml" r1 r2 r3
  "$drctl" backup --policy "$work/three.yaml" --target t0 >/dev/null 2>&1
  echo "filling: $size manifests over $targets targets in 3 buckets..." >&2
  python3 scripts/bench-check-fill.py "$endpoint" drctl "$work/key" "$targets" $(( size / targets )) bench-r1 bench-r2 bench-r3
  # The copies must be believed, not refused: every one listed, and signed.
  DRCTL_CACHE_DIR=off "$drctl" list --policy "$work/three.yaml" --json 2>/dev/null | python3 -c '
import json, sys
entries = json.load(sys.stdin)
entries = entries.get("backups", entries) if isinstance(entries, dict) else entries
signed = sum(1 for e in entries if e.get("authentication") == "signed")
print(f"listed {len(entries)} backups, {signed} signed", file=sys.stderr)
sys.exit(0 if signed == len(entries) == int(sys.argv[1]) + 1 else 1)' "$size"
  for regions in one three; do
    checks "$size/$regions/new" "$drctl" "$work/$regions.yaml"
    [ -n "$base" ] && checks "$size/$regions/base" "$base" "$work/$regions.yaml"
  done
done

echo
echo "label (manifests/regions/binary/cache)  wall_s  max_rss_kib  machine_cpu_s  moto_cpu_s  requests"
column -t "$work/results"
