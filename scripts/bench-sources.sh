#!/usr/bin/env bash
# Benchmark of the database sources against the vendors' own tools (issue #3), in one run:
#   PostgreSQL (~1 GiB: pgbench -s 50 plus ~300 MB of random text in one database)
#     drctl backup into the local store        vs  pg_dump -Fc -Z0 db > /dev/null   (target <= 1.15)
#     peak RSS of drctl backup                                                        (target <= 64 MiB)
#     drctl restore --to postgres://           vs  pg_restore of the same dump file  (target <= 1.10)
#     drctl restore --jobs 2 --staging-dir     vs  pg_restore --jobs 2 of that file  (target <= 1.10)
#   Redis (1 M keys)
#     drctl backup                             vs  redis-cli --rdb FILE               (target <= 1.10)
#     with repl-diskless-sync-delay 0 on the server for both.
# Every restore goes into a database dropped and recreated just before, outside the timing.
# Each ratio comes with its CPU floor (scripts/bench-lib.sh): on a machine whose cores are all
# busy, no program doing the same work can beat it.
#
#   scripts/bench-sources.sh            # BENCH_DIR=bench-out, RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}/sources
runs=${RUNS:-3}
rm -rf "$bench"; mkdir -p "$bench"
scripts/install-deps.sh >/dev/null
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

drctl=$(scripts/build-release.sh)

# --- servers --------------------------------------------------------------------------------
pgdir=$bench/pg
redisdir=$bench/redis
mkdir -p "$redisdir"
cleanup() {
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
psql() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$PGPORT" -U postgres "$@"; }
# Everything measured goes over TCP with a password, as drctl's own connections do.
export PGPASSWORD=bench-password PGHOST=127.0.0.1 PGPORT
psql -c "ALTER ROLE postgres PASSWORD '$PGPASSWORD'"
echo "seeding PostgreSQL: pgbench -s 50 + ~300 MB random text..." >&2
psql -c "CREATE DATABASE bench"
"$bin/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s 50 -q bench >/dev/null 2>&1
psql -d bench -c "CREATE TABLE notes AS SELECT i AS id, (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 9) WHERE i > 0) AS body FROM generate_series(1, 1000000) i"
psql -d bench -c "VACUUM ANALYZE"
echo "database size: $(psql -d bench -At -c "SELECT pg_size_pretty(pg_database_size('bench'))")" >&2

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redisdir" \
  --repl-diskless-sync yes --repl-diskless-sync-delay 0 --enable-debug-command yes --daemonize no \
  --logfile "$redisdir/log" &
redis_pid=$!
until redis-cli -p "$redis_port" PING >/dev/null 2>&1; do sleep 0.1; done
redis-cli -p "$redis_port" DEBUG POPULATE 1000000 key 100 >/dev/null

# --- drctl policy ---------------------------------------------------------------------------
work=$bench/work
mkdir -p "$work"
"$drctl" keygen --out "$work/key" >/dev/null
cat > "$work/policy.yaml" <<YAML
version: 1
repository:
  regions:
    - name: local
      url: $work/repo
  encryption: {key_file: $work/key}
targets:
  - name: pg
    kind: postgres
    connection: {host: 127.0.0.1, port: $PGPORT, user: postgres, password: {env: PGPASSWORD}, databases: [bench], sslmode: disable}
  - name: redis
    kind: redis
    connection: {host: 127.0.0.1, port: $redis_port}
YAML

# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh
fresh_db() { psql -c "DROP DATABASE IF EXISTS restored WITH (FORCE)" -c "CREATE DATABASE restored"; }
# Each PostgreSQL measurement starts from a checkpoint: the one before it leaves ~1 GiB of dirty
# buffers that the checkpointer would otherwise write, with its CPU and I/O, during the next.
measure_pg() { psql -c "CHECKPOINT"; measure "$@"; }

"$bin/pg_dump" -h 127.0.0.1 -p "$PGPORT" -U postgres -Fc -Z0 -f "$work/bench.dump" bench
zstd -q -3 -T0 "$work/bench.dump" -o "$work/bench.dump.zst"
for run in $(seq "$runs"); do
  rm -rf "$work/repo"
  measure_pg pg_dump sh -c "'$bin/pg_dump' -h 127.0.0.1 -p $PGPORT -U postgres -Fc -Z0 bench > /dev/null"
  measure_pg drctl-backup-pg "$drctl" backup --policy "$work/policy.yaml" --target pg
  # The least work any backup of this dump does besides pg_dump (for the CPU floor): zstd alone.
  measure zstd-dump zstd -q -3 -T0 -c "$work/bench.dump"
  measure unzstd-dump zstd -q -d -c "$work/bench.dump.zst"
  fresh_db
  measure_pg pg_restore "$bin/pg_restore" -h 127.0.0.1 -p "$PGPORT" -U postgres --exit-on-error -d restored "$work/bench.dump"
  # drctl restores into the database the archive came from: point it at a server copy.
  psql -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)"
  psql -c "ALTER DATABASE bench RENAME TO bench_copy"
  measure_pg drctl-restore "$drctl" restore --policy "$work/policy.yaml" --target pg --to "postgres://postgres@127.0.0.1:$PGPORT" --force
  psql -c "DROP DATABASE bench WITH (FORCE)"
  fresh_db
  measure_pg pg_restore-j2 "$bin/pg_restore" -h 127.0.0.1 -p "$PGPORT" -U postgres --exit-on-error --jobs 2 -d restored "$work/bench.dump"
  mkdir -p "$work/staging"
  measure_pg drctl-restore-j2 "$drctl" restore --policy "$work/policy.yaml" --target pg --to "postgres://postgres@127.0.0.1:$PGPORT" \
    --jobs 2 --staging-dir "$work/staging"
  psql -c "DROP DATABASE bench WITH (FORCE)"
  psql -c "ALTER DATABASE bench_copy RENAME TO bench"
  measure redis-cli-rdb redis-cli -p "$redis_port" --rdb "$work/cli.rdb"
  measure drctl-backup-redis "$drctl" backup --policy "$work/policy.yaml" --target redis
done

scripts/bench-summary.py "$work/results" \
  'drctl-backup-pg/pg_dump;backup / pg_dump -Fc -Z0 > /dev/null;1.15' \
  'drctl-restore/pg_restore;restore / pg_restore;1.10' \
  'drctl-restore-j2/pg_restore-j2;restore --jobs 2 / pg_restore --jobs 2;1.10' \
  'drctl-backup-redis/redis-cli-rdb;redis backup / redis-cli --rdb;1.10' \
  --floor 'pg_dump+zstd-dump/pg_dump;pg_dump, then zstd -3 -T0 on its bytes;1.15' \
          'pg_restore+unzstd-dump/pg_restore;zstd -d, then pg_restore;1.10' \
  --rss 'drctl-backup-pg;the PostgreSQL backup;64 MiB'
