#!/usr/bin/env bash
# Does the archiver keep up (issue #25)? A PostgreSQL 15 cluster whose archive_command is
# `drctl wal-push` to a local directory repository, under `pgbench -c 4 -j 2` for $DURATION
# seconds (300 by default; scale $SCALE, 20 by default), max_wal_size 64MB so that checkpoints
# come often and full-page writes make WAL fast. Every 10 s it samples the `.ready` files in pg_wal/archive_status (the backlog),
# pg_stat_archiver's archived and failed counts, and the WAL written; at the end it prints the
# segments produced and archived per second, the backlog's slope (least squares, segments per
# minute, over the pgbench run), its largest and last value, the machine's CPU-seconds
# (scripts/bench-lib.sh's busy ticks) and the wal-push processes' own (user + system, from
# /usr/bin/time around each archive_command), the largest wal-push RSS, and pgbench's tps.
# pgbench, the server and the archiver share the machine's cores: the figures say how much
# of them each took. Run as root (the server runs as postgres).
#
#   DRCTL=$(scripts/build-release.sh) DURATION=300 SCALE=20 scripts/bench-archiver.sh
set -euo pipefail
cd "$(dirname "$0")/.."
drctl=${DRCTL:-$(scripts/build-release.sh)}
duration=${DURATION:-300}
scale=${SCALE:-20}
work=$(mktemp -d /tmp/drctl-bench-archiver-XXXXXX)
chmod 0755 "$work"
trap 'scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh

# The archiver runs drctl as postgres: the key, the policy, the repository and the timings are its.
mkdir -p "$work/repo" "$work/drctl"
cp "$drctl" "$work/drctl/drctl"
"$work/drctl/drctl" keygen --out "$work/key" >/dev/null
wal_policy "$work/policy.yaml" "$work/repo" "$work/key"
: > "$work/pushes"
cat > "$work/drctl/push.sh" <<SH
#!/bin/sh
exec /usr/bin/time -a -o $work/pushes -f '%e %U %S %M' $work/drctl/drctl wal-push --policy $work/policy.yaml --target main --log-level warning "\$1"
SH
chmod 0755 "$work/drctl/push.sh"
chown -R postgres: "$work/repo" "$work/key" "$work/policy.yaml" "$work/pushes"
PG_EXTRA_CONF="wal_level = replica
archive_mode = on
archive_command = '$work/drctl/push.sh %p'
max_wal_size = '64MB'
min_wal_size = '32MB'" scripts/pg-cluster.sh start "$work/pg" > "$work/pg.env"
port=$(sed -n 's/^PGPORT=//p' "$work/pg.env")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
psql() { "$bin/psql" -X -q -At -h "$work/pg" -p "$port" -U postgres "$@"; }
pgbench() { "$bin/pgbench" -h "$work/pg" -p "$port" -U postgres "$@"; }
ready() { find "$work/pg/data/pg_wal/archive_status" -name '*.ready' | wc -l; }
drain() {   # waits (at most $1 s) for the archiver to empty the backlog
  local limit=$(( SECONDS + $1 ))
  while [ "$(ready)" -gt 0 ] && [ $SECONDS -lt $limit ]; do sleep 1; done
}

pgbench -i -q -s "$scale" postgres > "$work/init.log" 2>&1
drain 300
: > "$work/pushes"
echo "load $(cut -d' ' -f1-3 /proc/loadavg) before the run; $(nproc) cores"

sample() {   # elapsed_s ready archived failed wal_bytes machine_busy_ticks
  echo "$1 $(ready) $(psql -c "SELECT archived_count, failed_count, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint FROM pg_stat_archiver" | tr '|' ' ') $(busy_ticks)"
}
start=$SECONDS
pgbench -c 4 -j 2 -T "$duration" -n postgres > "$work/pgbench.log" 2>&1 &
bench=$!
sample 0 > "$work/samples"
while kill -0 "$bench" 2>/dev/null; do
  sleep 10
  kill -0 "$bench" 2>/dev/null && sample $(( SECONDS - start )) >> "$work/samples"
done
wait "$bench"
sample $(( SECONDS - start )) >> "$work/samples"
ran=$(( SECONDS - start ))
cp "$work/pushes" "$work/pushes-run"   # the pushes of the run, not of the drain after it
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end of the run"
drained_at=$SECONDS
drain 300
echo "backlog after the run: drained in $(( SECONDS - drained_at )) s, $(ready) left"
column -t -N elapsed_s,ready,archived,failed,wal_bytes,busy_ticks "$work/samples"

tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.log" | head -n 1)
awk -v hz="$(getconf CLK_TCK)" -v ran="$ran" -v tps="$tps" -v cores="$(nproc)" '
  FNR == NR { t[NR] = $1; r[NR] = $2; a[NR] = $3; f[NR] = $4; w[NR] = $5; b[NR] = $6; n = NR; next }
  { pushes++; wall += $1; cpu += $2 + $3; if ($4 > rss) rss = $4 }
  END {
    for (i = 1; i <= n; i++) { st += t[i]; sr += r[i]; stt += t[i] * t[i]; str += t[i] * r[i]; if (r[i] > maxr) maxr = r[i] }
    slope = (n * str - st * sr) / (n * stt - st * st) * 60
    produced = (w[n] - w[1]) / 16777216; archived = a[n] - a[1]; machine = (b[n] - b[1]) / hz
    printf "pgbench %d s: %.0f tps; WAL %.0f segments (%.2f/s) produced, %d (%.2f/s) archived, %d failed\n",
           ran, tps, produced, produced / ran, archived, archived / ran, f[n] - f[1]
    printf "backlog (.ready): slope %+.2f segments/min, largest %d, last %d\n", slope, maxr, r[n]
    printf "CPU-seconds: machine %.1f of %d (%d cores x %d s); wal-push %.1f over %d pushes (%.3f s each, wall %.3f s), peak RSS %.1f MiB\n",
           machine, cores * ran, cores, ran, cpu, pushes, cpu / pushes, wall / pushes, rss / 1024 }
' "$work/samples" "$work/pushes-run"
