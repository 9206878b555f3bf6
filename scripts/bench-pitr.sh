#!/usr/bin/env bash
# Physical base backup and point-in-time restore against pgBackRest (issue #25, "Performance"):
# one PostgreSQL cluster (pgbench -s ${SCALE:-60}, ~1 GiB) archiving its WAL to both tools
# (archive_command runs drctl wal-push, then pgbackrest archive-push), then per tool:
#   full backup                     drctl backup (mode: physical)  |  pgbackrest backup --type=full
#   restore until promoted          drctl restore --point-in-time latest --start
#                                   |  pgbackrest restore, pg_ctl start, wait for the promotion
# pgBackRest as the issue sets it: compress-type=zst, compress-level=3, process-max=2,
# repo1-cipher-type=aes-256-cbc, repo1-type=posix (a local directory, like drctl's region).
# Rows drctl_restore_files (the restore without --start: extraction and pg_verifybackup) and
# pg_verifybackup (again, alone, over those files) say where drctl's restore time goes.
# Each row: wall seconds, peak RSS (KiB) of the command, and the machine's CPU seconds meanwhile
# (scripts/bench-lib.sh); run as root (the servers run as postgres).
# With S3=1, drctl's full backup is also timed into an S3 region (moto on loopback, from the
# virtual environment of scripts/python-venv.sh; WAL pushed there too, so that the backup's WAL
# is archived at quorum): row drctl_backup_s3 (pgBackRest's S3 repository needs TLS: not compared).
#
#   scripts/bench-pitr.sh                 # release build, SCALE=60, RUNS=3
#   S3=1 scripts/bench-pitr.sh            # and the S3 figure
#   DRCTL=.build/debug/drctl SCALE=10 RUNS=1 scripts/bench-pitr.sh
#   KEEP=1 SCALE=20 RUNS=1 scripts/bench-pitr.sh   # phases: keeps the restored directories
#                                         # (servers stopped; their logs inside, %m stamps),
#                                         # drctl's debug log and the files-only restore's
#                                         # strace (fsync, exec, wait) in $work
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${BENCH_DIR:-$root/bench-out}/pitr
runs=${RUNS:-3}
scale=${SCALE:-60}
rm -rf "$work"; mkdir -p "$work"; chmod 0755 "$work"
. scripts/bench-lib.sh
command -v pgbackrest >/dev/null || { echo "bench-pitr: install pgbackrest (apt-get install pgbackrest)" >&2; exit 1; }
physical_bench

"$DRCTL" keygen --out "$work/key" >/dev/null
s3_push=""
if [ "${S3:-0}" = 1 ]; then
  source scripts/python-venv.sh   # moto
  moto_port=$(free_port)
  python3 -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$moto_port/"; do sleep 0.1; done
  curl -sf -X PUT -o /dev/null "http://127.0.0.1:$moto_port/bench-pitr"
  printf AKIAIOSFODNN7EXAMPLE > "$work/s3-id"; printf moto-does-not-check > "$work/s3-secret"
  s3_push=" && $DRCTL wal-push --policy $work/policy-s3.yaml --target main %p"
fi
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
archive="$DRCTL wal-push --policy $work/policy.yaml --target main %p$s3_push && pgbackrest --config=$work/pgbackrest.conf --stanza=bench archive-push %p"
export PG_REPLICATION=1 PG_EXTRA_CONF="wal_level = replica
archive_mode = on
archive_command = '$archive'
max_wal_senders = 4"
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
unset PG_REPLICATION PG_EXTRA_CONF
sed -i "s|^pg1-socket-path=.*|&\npg1-port=$PGPORT|" "$work/pgbackrest.conf"
physical_policy "$work/policy.yaml" "{name: local, url: $work/repo}"
[ -z "$s3_push" ] || physical_policy "$work/policy-s3.yaml" "{name: s3, url: s3://bench-pitr/drctl, \
  endpoint: 'http://127.0.0.1:$moto_port', path_style: true, access_key_id: {file: $work/s3-id}, secret_access_key: {file: $work/s3-secret}}"
chown -R postgres: "$work"
psql=("${as_pg[@]}" "$bin/psql" -X -q -At -h "$pgdir" -p "$PGPORT" -U postgres -d postgres)
"${as_pg[@]}" "$bin/pgbench" -q -i -s "$scale" -h "$pgdir" -p "$PGPORT" -U postgres postgres >/dev/null 2>&1
"${as_pg[@]}" pgbackrest --config="$work/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
"${psql[@]}" -c "SELECT pg_switch_wal()" >/dev/null
size=$("${psql[@]}" -c "SELECT pg_size_pretty(pg_database_size('postgres'))")
echo "cluster: $size (pgbench -s $scale), $(nproc) cores"

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
  if [ -n "$s3_push" ]; then
    watch_pid=$moto_pid measure "drctl_backup_s3" "${as_pg[@]}" "$DRCTL" backup --policy "$work/policy-s3.yaml"
  fi
  "${psql[@]}" -c "UPDATE pgbench_branches SET bbalance = bbalance + 1" -c "SELECT pg_switch_wal()" >/dev/null
  sleep 2
  port=$(free_port)
  keep=${KEEP:-0}
  debug=(); trace=()
  if [ "$keep" = 1 ]; then
    debug=(--log-level debug)
    trace=(strace -f -tt -T -e trace=fsync,fdatasync,syncfs,sync_file_range,execve,wait4 -o "$work/strace-files-$run.txt")
  fi
  measure "drctl_restore_promoted" "$DRCTL" restore --policy "$work/policy.yaml" --target main --to "$work/restore-drctl-$run" \
    --point-in-time latest --timeline 1 --start --port "$port" "${debug[@]}" 2>"$work/drctl-restore-$run.log"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/restore-drctl-$run" -m immediate stop >/dev/null
  if [ "$keep" = 1 ]; then mv "$work/restore-drctl-$run" "$work/kept-drctl-$run"; else rm -rf "$work/restore-drctl-$run"; fi
  # Where the time goes: the files alone (extract + pg_verifybackup, no start), and
  # pg_verifybackup alone again over what that wrote.
  measure "drctl_restore_files" "${trace[@]}" "$DRCTL" restore --policy "$work/policy.yaml" --target main --to "$work/restore-drctl-$run" \
    --point-in-time latest --timeline 1
  measure "pg_verifybackup" "${as_pg[@]}" "$bin/pg_verifybackup" --no-parse-wal --quiet --ignore tablespace_map \
    --ignore postgresql.auto.conf --ignore recovery.signal "$work/restore-drctl-$run"
  rm -rf "$work/restore-drctl-$run"
  mkdir -m 0700 "$work/restore-pgbr-$run"; chown postgres: "$work/restore-pgbr-$run"
  measure "pgbackrest_restore_promoted" bash -c "as_pg=(runuser -u postgres --); pgbr_restore '$work/restore-pgbr-$run' $(free_port)"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/restore-pgbr-$run" -m immediate stop >/dev/null
  if [ "$keep" = 1 ]; then mv "$work/restore-pgbr-$run" "$work/kept-pgbr-$run"; mv "$work/restore-pgbr-$run.log" "$work/kept-pgbr-$run.log"
  else rm -rf "$work/restore-pgbr-$run"; fi
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
s3 = med.get("drctl_backup_s3")
if s3:
    print(f"backup to S3 (moto on loopback): drctl {s3[0]:.2f} s ({s3[1]:.2f} CPU-s, floor {s3[1] / cores:.2f} s)")
PY
