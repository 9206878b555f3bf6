#!/usr/bin/env bash
# WAL fetch during recovery (issue #25, "Performance": recovery of 2 GiB of WAL through
# `drctl wal-fetch` ≤ 1.1 × recovery of the same WAL from a local copy). One PostgreSQL cluster
# (pgbench -s ${SCALE:-10}) archives through `drctl wal-push` to a local directory region and,
# in the same archive_command, copies each file plainly into a local directory. After a base
# backup, inserts write ${WAL_MIB:-2048} MiB of WAL, all archived. The base backup is restored
# once (`drctl restore`, no --start) and copied; then per run and per copy the server is started
# and timed until it has promoted:
#   recovery_walfetch   restore_command = drctl wal-fetch (what drctl restore writes: --spool <restored dir>.drctl-wal-spool,
#                       filled by the background read-ahead worker)
#   recovery_localcopy  restore_command = cp from the local directory (the same files, plain)
# Each row: wall seconds, peak RSS (KiB) of the timed command, and the machine's CPU seconds
# meanwhile (scripts/bench-lib.sh); run as root (the servers run as postgres).
#
#   scripts/bench-recovery.sh                           # release build, 2 GiB, RUNS=3
#   DRCTL=.build/debug/drctl WAL_MIB=256 RUNS=1 scripts/bench-recovery.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${BENCH_DIR:-$root/bench-out}/recovery
runs=${RUNS:-3}
scale=${SCALE:-10}
wal_mib=${WAL_MIB:-2048}
rm -rf "$work"; mkdir -p "$work/walcopy"; chmod 0755 "$work"
. scripts/bench-lib.sh
physical_bench

"$DRCTL" keygen --out "$work/key" >/dev/null
archive="$DRCTL wal-push --policy $work/policy.yaml --target main %p && cp %p $work/walcopy/%f"
export PG_REPLICATION=1 PG_EXTRA_CONF="wal_level = replica
archive_mode = on
archive_command = '$archive'
max_wal_senders = 4
max_wal_size = '1GB'"
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
unset PG_REPLICATION PG_EXTRA_CONF
physical_policy "$work/policy.yaml" "{name: local, url: $work/repo}"
chown -R postgres: "$work"
psql=("${as_pg[@]}" "$bin/psql" -X -q -At -h "$pgdir" -p "$PGPORT" -U postgres -d postgres)
"${as_pg[@]}" "$bin/pgbench" -q -i -s "$scale" -h "$pgdir" -p "$PGPORT" -U postgres postgres >/dev/null 2>&1
"${as_pg[@]}" "$DRCTL" backup --policy "$work/policy.yaml" >/dev/null 2>&1

# $wal_mib MiB of WAL after the base backup: inserts (a commit every batch) until the WAL
# position has moved that far, then a switch and a wait until the archiver has everything.
start=$("${psql[@]}" -c "SELECT pg_current_wal_lsn()")
"${psql[@]}" -c "CREATE TABLE load (id bigserial PRIMARY KEY, a text, b text, n int)"
while [ "$("${psql[@]}" -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start') >= $wal_mib::bigint * 1048576")" != t ]; do
  "${psql[@]}" -c "INSERT INTO load (a, b, n) SELECT md5(g::text), repeat(md5((g * 7)::text), 3), g FROM generate_series(1, 200000) g"
done
last=$("${psql[@]}" -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
"${psql[@]}" -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1200); do
  [ "$("${psql[@]}" -c "SELECT coalesce(last_archived_wal, '') >= '$last' FROM pg_stat_archiver")" = t ] && break
  sleep 0.5
done
segments=$(ls "$work/walcopy" | grep -cE '^[0-9A-F]{24}$')
rows=$("${psql[@]}" -c "SELECT count(*) FROM load")
echo "WAL after the base backup: $segments segments ($(du -sh "$work/walcopy" | cut -f1)), $rows rows; $(nproc) cores"
scripts/pg-cluster.sh stop "$pgdir" >/dev/null

# One restored base backup (recovery settings written by drctl), copied for every run.
"$DRCTL" restore --policy "$work/policy.yaml" --target main --to "$work/base" --point-in-time latest --timeline 1 >/dev/null 2>&1

start_and_await() {   # $1 data directory, $2 port
  "${as_pg[@]}" "$bin/pg_ctl" -D "$1" -l "$1.log" -W start >/dev/null
  await_promotion "$1" "$2"
}
export -f await_promotion start_and_await
export bin

prepare() {   # $1 data directory, $2 port, $3 restore_command
  rm -rf "$1" "$1.log"
  cp -a "$work/base" "$1"
  printf "restore_command = '%s'\nport = %s\nunix_socket_directories = '%s'\narchive_mode = off\n" \
    "$3" "$2" "$1" >> "$1/postgresql.auto.conf"
}

for run in $(seq "$runs"); do
  port=$(free_port)
  fetch=$(sed -n "s/^restore_command = '\(.*\)'$/\1/p" "$work/base/postgresql.auto.conf" | tail -1)
  prepare "$work/run-walfetch" "$port" "$fetch"
  measure "recovery_walfetch" bash -c "as_pg=(runuser -u postgres --); start_and_await '$work/run-walfetch' $port"
  [ "$("${as_pg[@]}" "$bin/psql" -X -At -h "$work/run-walfetch" -p "$port" -U postgres -d postgres -c 'SELECT count(*) FROM load')" = "$rows" ] \
    || { echo "bench-recovery: the wal-fetch recovery did not reach every row" >&2; exit 1; }
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/run-walfetch" -m immediate stop >/dev/null
  # wal-fetch's read-ahead worker ends once the server has promoted: not left to run beside the next.
  lock="$work/base.drctl-wal-spool/worker.lock"   # the restore's spool, which each copy's restore_command names
  [ ! -e "$lock" ] || until flock -n "$lock" true; do sleep 0.1; done
  port=$(free_port)
  prepare "$work/run-localcopy" "$port" "cp $work/walcopy/%f %p"
  measure "recovery_localcopy" bash -c "as_pg=(runuser -u postgres --); start_and_await '$work/run-localcopy' $port"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/run-localcopy" -m immediate stop >/dev/null
done
rm -rf "$work/run-walfetch" "$work/run-localcopy"

# The startup process's own account of the last run of each (replay CPU and elapsed time).
for kind in walfetch localcopy; do echo "$kind: $(grep -ho 'redo done.*' "$work/run-$kind.log" | tail -1)"; done
echo "label wall_s max_rss_kib machine_cpu_s"
sort "$work/results"
python3 - "$work/results" "$(nproc)" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    label, wall, rss, cpu = line.split()[:4]
    rows.setdefault(label, []).append((float(wall), float(cpu)))
cores = int(sys.argv[2])
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
d, p = med.get("recovery_walfetch"), med.get("recovery_localcopy")
if d and p:
    print(f"recovery: wal-fetch {d[0]:.2f} s ({d[1]:.2f} CPU-s, floor {d[1] / cores:.2f} s), "
          f"local copy {p[0]:.2f} s ({p[1]:.2f} CPU-s, floor {p[1] / cores:.2f} s), ratio {d[0] / p[0]:.2f}")
PY
