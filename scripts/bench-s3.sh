#!/usr/bin/env bash
# Benchmark of S3 storage (issue #4), one moto endpoint on loopback for everything:
#   one region:    drctl backup of a PostgreSQL database (~1 GiB: pgbench -s 50 plus ~300 MB of
#                  random text, the seeding of scripts/bench-sources.sh) into one S3 region
#                  vs  pg_dump -Fc -Z0 | zstd -3 -T0 | openssl enc -aes-256-ctr -pbkdf2 | aws s3 cp -
#                                                                              (target <= 0.85)
#   three regions: the same backup into three S3 regions (three buckets)   vs one region (<= 1.2)
#   peak RSS with three regions: that backup, and a generated stream of LARGE_GIB GiB from a
#                  command target (incompressible: every byte reaches the three regions)
#                                                               (target <= 128 MiB, flat 1 → 8 GiB)
#
#   moto's completes: the CompleteMultipartUploads that end a backup of that size into one and into
#                  three regions, timed alone (scripts/s3-complete-timer.py): nothing overlaps
#                  them, so with the rest of the run's CPU they bound three/one from below
#
#   peak RSS from 1 to SINK_GIB GiB: the same stream, three regions on scripts/s3-sink-server.py,
#                  an endpoint that discards what it gets (moto cannot hold 8 GiB, see below)
#
#   scripts/bench-s3.sh                                   # RUNS=3, LARGE_GIB=1, SINK_GIB=8
#   LARGE_GIB=8 scripts/bench-s3.sh                       # the issue's 8 GiB case on moto (see below)
#   SCALE=1 NOTES_ROWS=1000 LARGE_GIB=0.05 RUNS=1 DRCTL=.build/debug/drctl scripts/bench-s3.sh
#                                                         # a quick check that the script runs
#
# moto keeps every object in memory, and more than that while it completes a multipart upload:
# on a 24 GiB machine it was OOM-killed completing three 3 GiB uploads (and three 8 GiB ones),
# so LARGE_GIB above 1 needs a bigger machine (each run's objects are deleted before the next).
# drctl's memory does not depend on what the server keeps: SINK_GIB (0 skips it) measures the
# stream's flatness on the discarding endpoint instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}/s3
runs=${RUNS:-3}
scale=${SCALE:-50}
notes_rows=${NOTES_ROWS:-1000000}
large_gib=${LARGE_GIB:-1}
sink_gib=${SINK_GIB:-8}
rm -rf "$bench"; mkdir -p "$bench"
scripts/install-deps.sh >/dev/null
source scripts/python-venv.sh   # moto, boto3 and aws-cli
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# DRCTL=path skips the release build (e.g. a debug binary for a quick check of the script).
drctl=${DRCTL:-$(scripts/build-release.sh)}

# --- servers --------------------------------------------------------------------------------
pgdir=$bench/pg
work=$bench/work
mkdir -p "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null || true
  [ -n "${sink_pid:-}" ] && kill "$sink_pid" 2>/dev/null || true
}
trap cleanup EXIT
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
psql() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$PGPORT" -U postgres "$@"; }
export PGPASSWORD=bench-password PGHOST=127.0.0.1 PGPORT
psql -c "ALTER ROLE postgres PASSWORD '$PGPASSWORD'"
echo "seeding PostgreSQL: pgbench -s $scale + $notes_rows rows of random text..." >&2
psql -c "CREATE DATABASE bench"
"$bin/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s "$scale" -q bench >/dev/null 2>&1
psql -d bench -c "CREATE TABLE notes AS SELECT i AS id, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 9) WHERE i > 0) AS body FROM generate_series(1, $notes_rows) i"
psql -d bench -c "VACUUM ANALYZE"
echo "database size: $(psql -d bench -At -c "SELECT pg_size_pretty(pg_database_size('bench'))")" >&2

moto_port=$(free_port)
python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$moto_port/"; do sleep 0.1; done
endpoint=http://127.0.0.1:$moto_port
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=moto-does-not-check AWS_DEFAULT_REGION=us-east-1
aws() { command aws --endpoint-url "$endpoint" "$@"; }
buckets=(bench-r1 bench-r2 bench-r3 bench-baseline)
for bucket in "${buckets[@]}"; do aws s3 mb "s3://$bucket" >/dev/null; done
empty_buckets() { for bucket in "${buckets[@]}"; do aws s3 rm --recursive --quiet "s3://$bucket/"; done; }

# --- drctl policies -------------------------------------------------------------------------
"$drctl" keygen --out "$work/key" >/dev/null
gib_bytes() { python3 -c "print(int($1 * (1 << 30)))"; }
large_bytes=$(gib_bytes "$large_gib")
policy() {   # FILE REGION...   (regions on $endpoint; the large target makes $large_bytes)
  local file=$1; shift
  {
    echo "version: 1"
    echo "repository:"
    echo "  regions:"
    for region in "$@"; do
      echo "    - {name: $region, url: s3://bench-$region/drctl, endpoint: $endpoint, path_style: true, timeout: 2m}"
    done
    echo "  min_regions: $#"
    echo "  encryption: {key_file: $work/key}"
    echo "targets:"
    echo "  - name: pg"
    echo "    kind: postgres"
    echo "    connection: {host: 127.0.0.1, port: $PGPORT, user: postgres, password: {env: PGPASSWORD}, databases: [bench], sslmode: disable}"
    echo "  - name: large"
    echo "    kind: command"
    echo "    command: [sh, -c, \"head -c $large_bytes /dev/zero | openssl enc -aes-128-ctr -pass pass:x -nosalt -pbkdf2\"]"
  } > "$file"
}
policy "$work/one.yaml" r1
policy "$work/three.yaml" r1 r2 r3

# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh
watch_pid=$moto_pid   # moto's own CPU per measurement: Python serves on one core at a time

for run in $(seq "$runs"); do
  empty_buckets
  measure baseline sh -c "'$bin/pg_dump' -h 127.0.0.1 -p $PGPORT -U postgres -Fc -Z0 bench | zstd -q -3 -T0 \
    | openssl enc -aes-256-ctr -pbkdf2 -pass pass:x | aws --endpoint-url $endpoint s3 cp - s3://bench-baseline/dump-$run"
  measure one-region "$drctl" backup --policy "$work/one.yaml" --target pg
  measure three-regions "$drctl" backup --policy "$work/three.yaml" --target pg
done
dump_bytes=$(aws s3 ls --recursive s3://bench-r1/drctl/data/ | awk '/\.dump$/ {size = $3} END {print size}')
empty_buckets
echo "moto's completes of $dump_bytes-byte uploads..." >&2
for run in $(seq "$runs"); do
  python3 scripts/s3-complete-timer.py "$endpoint" "$moto_pid" "$dump_bytes" tail-one bench-r1 >> "$work/results"
  python3 scripts/s3-complete-timer.py "$endpoint" "$moto_pid" "$dump_bytes" tail-three bench-r1 bench-r2 bench-r3 >> "$work/results"
done
echo "generated stream: $large_gib GiB into three regions..." >&2
measure "three-regions-${large_gib}GiB" "$drctl" backup --policy "$work/three.yaml" --target large
empty_buckets

sink_rss=()
if [ "$sink_gib" != 0 ]; then
  sink_port=$(free_port)
  python3 scripts/s3-sink-server.py "$sink_port" >"$work/sink.log" 2>&1 &
  sink_pid=$!
  endpoint=http://127.0.0.1:$sink_port
  watch_pid=$sink_pid
  until curl -sf -o /dev/null -X PUT "$endpoint/bench-r1"; do sleep 0.1; done
  for bucket in bench-r2 bench-r3; do curl -sf -o /dev/null -X PUT "$endpoint/$bucket"; done
  for gib in 1 "$sink_gib"; do
    echo "generated stream: $gib GiB into three regions of the discarding endpoint..." >&2
    large_bytes=$(gib_bytes "$gib")
    policy "$work/sink.yaml" r1 r2 r3
    measure "sink-three-regions-${gib}GiB" "$drctl" backup --policy "$work/sink.yaml" --target large
    sink_rss+=("sink-three-regions-${gib}GiB;three regions, ${gib} GiB stream, discarding endpoint;128 MiB, flat")
  done
fi

scripts/bench-summary.py "$work/results" \
  'one-region/baseline;one region / pg_dump|zstd|openssl|aws s3 cp;0.85' \
  'three-regions/one-region;three regions / one region;1.2' \
  --serial 'three-regions/one-region;three regions / one region, moto alone;1.2' \
           'one-region/baseline;one region / baseline, moto alone;0.85' \
  --tail 'three-regions/one-region;tail-three;three regions / one region, moto completes last;1.2' \
  --rss 'three-regions;three regions, database;128 MiB' \
        "three-regions-${large_gib}GiB;three regions, ${large_gib} GiB stream;128 MiB, flat" "${sink_rss[@]}"
