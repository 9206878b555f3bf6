#!/usr/bin/env bash
# Physical base backup and point-in-time restore against pgBackRest (issue #25, "Performance"):
# one PostgreSQL cluster (pgbench -s ${SCALE:-60}, ~1 GiB) archiving its WAL to both tools
# (archive_command runs drctl wal-push, then pgbackrest archive-push), then per tool:
#   full backup                     drctl backup (mode: physical)  |  pgbackrest backup --type=full
#   restore until promoted          drctl restore --point-in-time latest --start
#                                   |  pgbackrest restore, pg_ctl start, wait for the promotion
# pgBackRest as the issue sets it: compress-type=zst, compress-level=3, process-max=2,
# repo1-cipher-type=aes-256-cbc, repo1-type=posix (a local directory, like drctl's region).
# Each row: wall seconds, peak RSS (KiB) of the command, and the machine's CPU seconds meanwhile
# (scripts/bench-lib.sh); run as root (the servers run as postgres).
#
#   scripts/bench-pitr.sh                 # release build, SCALE=60, RUNS=3
#   DRCTL=.build/debug/drctl SCALE=10 RUNS=1 scripts/bench-pitr.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${BENCH_DIR:-$root/bench-out}/pitr
runs=${RUNS:-3}
scale=${SCALE:-60}
rm -rf "$work"; mkdir -p "$work"; chmod 0755 "$work"
. scripts/bench-lib.sh
command -v pgbackrest >/dev/null || { echo "bench-pitr: install pgbackrest (apt-get install pgbackrest)" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ -z "${DRCTL:-}" ]; then DRCTL=$(scripts/build-release.sh); fi
DRCTL=$(readlink -f "$DRCTL")
as_pg=(runuser -u postgres --)
pgdir=$work/pg

cleanup() {
  for d in "$work"/restore-*; do [ -f "$d/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1; done
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$DRCTL" keygen --out "$work/key" >/dev/null
cat >"$work/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/pgbr-repo
repo1-type=posix
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=bench-pitr-passphrase
compress-type=zst
compress-level=3
process-max=2
start-fast=y
archive-async=n
lock-path=$work/pgbr-lock
log-path=$work/pgbr-log
log-level-console=warn
log-level-file=off

[bench]
pg1-path=$pgdir/data
pg1-socket-path=$pgdir
CONF
archive="$DRCTL wal-push --policy $work/policy.yaml --target main %p && pgbackrest --config=$work/pgbackrest.conf --stanza=bench archive-push %p"
export PG_REPLICATION=1 PG_EXTRA_CONF="wal_level = replica
archive_mode = on
archive_command = '$archive'
max_wal_senders = 4"
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
unset PG_REPLICATION PG_EXTRA_CONF
sed -i "s|^pg1-socket-path=.*|&\npg1-port=$PGPORT|" "$work/pgbackrest.conf"
cat >"$work/policy.yaml" <<YAML
version: 1
repository:
  regions: [{name: local, url: $work/repo}]
  compression: {level: 3}
  encryption: {key_file: $work/key}
targets:
  - name: main
    kind: postgres
    mode: physical
    connection: {host: $pgdir, port: $PGPORT, user: postgres, checkpoint: fast, wal_wait_timeout: 10m}
YAML
chown -R postgres: "$work"
psql=("${as_pg[@]}" "$bin/psql" -X -q -At -h "$pgdir" -p "$PGPORT" -U postgres -d postgres)
"${as_pg[@]}" "$bin/pgbench" -q -i -s "$scale" -h "$pgdir" -p "$PGPORT" -U postgres postgres >/dev/null 2>&1
"${as_pg[@]}" pgbackrest --config="$work/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
"${psql[@]}" -c "SELECT pg_switch_wal()" >/dev/null
size=$("${psql[@]}" -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
echo "cluster: $size (pgbench -s $scale), $(nproc) cores"

# Waits until the server on data directory $1, port $2 has promoted.
await_promotion() {
  for _ in $(seq 6000); do
    [ "$("${as_pg[@]}" "$bin/psql" -X -At -h "$1" -p "$2" -U postgres -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && return 0
    sleep 0.1
  done
  return 1
}
pgbr_restore() {   # $1 data directory, $2 port
  "${as_pg[@]}" pgbackrest --config="$work/pgbackrest.conf" --stanza=bench --pg1-path="$1" restore
  printf "port = %s\nunix_socket_directories = '%s'\narchive_mode = off\n" "$2" "$1" >> "$1/postgresql.auto.conf"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$1" -l "$1.log" -W start >/dev/null
  await_promotion "$1" "$2"
}
export -f pgbr_restore await_promotion
export work bin

for run in $(seq "$runs"); do
  "${psql[@]}" -c "UPDATE pgbench_branches SET bbalance = bbalance + 1" -c "SELECT pg_switch_wal()" >/dev/null
  measure "drctl_backup" "${as_pg[@]}" "$DRCTL" backup --policy "$work/policy.yaml"
  measure "pgbackrest_backup" "${as_pg[@]}" pgbackrest --config="$work/pgbackrest.conf" --stanza=bench --type=full backup
  "${psql[@]}" -c "UPDATE pgbench_branches SET bbalance = bbalance + 1" -c "SELECT pg_switch_wal()" >/dev/null
  sleep 2
  port=$((40000 + run))
  measure "drctl_restore_promoted" "$DRCTL" restore --policy "$work/policy.yaml" --target main --to "$work/restore-drctl-$run" \
    --point-in-time latest --timeline 1 --start --port "$port"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/restore-drctl-$run" -m immediate stop >/dev/null
  rm -rf "$work/restore-drctl-$run"
  mkdir -m 0700 "$work/restore-pgbr-$run"; chown postgres: "$work/restore-pgbr-$run"
  measure "pgbackrest_restore_promoted" bash -c "as_pg=(runuser -u postgres --); pgbr_restore '$work/restore-pgbr-$run' $((port + 100))"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/restore-pgbr-$run" -m immediate stop >/dev/null
  rm -rf "$work/restore-pgbr-$run"
done

echo "label wall_s max_rss_kib machine_cpu_s"
sort "$work/results" | awk '{print}'
python3 - "$work/results" "$(nproc)" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    label, wall, rss, cpu = line.split()[:4]
    rows.setdefault(label, []).append((float(wall), int(rss), float(cpu)))
cores = int(sys.argv[2])
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(c for _, _, c in v)) for k, v in rows.items()}
for what in ("backup", "restore_promoted"):
    d, p = med.get(f"drctl_{what}"), med.get(f"pgbackrest_{what}")
    if d and p:
        print(f"{what}: drctl {d[0]:.2f} s ({d[1]:.2f} CPU-s, floor {d[1] / cores:.2f} s), "
              f"pgBackRest {p[0]:.2f} s ({p[1]:.2f} CPU-s, floor {p[1] / cores:.2f} s), ratio {d[0] / p[0]:.2f}")
PY
