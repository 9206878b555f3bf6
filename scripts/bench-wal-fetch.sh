#!/usr/bin/env bash
# wal-fetch per segment from a local directory repository (issue #25): real segments written by
# a PostgreSQL 15 under an insert load (as scripts/bench-wal.sh makes them), pushed once, then
# each fetched back in order by a fresh `drctl wal-fetch` process, as PostgreSQL's
# restore_command runs it: once with the spool (what `drctl restore` writes: each segment served
# from the spool by a rename once the background worker has put it there, the critical path
# PostgreSQL waits for), once with `--spool off`; each fetched file is compared with its segment.
# Then the worker's own cost: `drctl wal-read-ahead` spooling every segment after the first, in
# the foreground. Prints the mean CPU-seconds per segment (user + system, the figure a shared
# machine's neighbours do not change), user and system apart, and the peak RSS, with the load
# average before each mode.
#
#   DRCTL=$(scripts/build-release.sh) SEGMENTS=20 scripts/bench-wal-fetch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
drctl=${DRCTL:-$(scripts/build-release.sh)}
segments=${SEGMENTS:-20}
work=$(mktemp -d /tmp/drctl-bench-wal-fetch-XXXXXX)
chmod 0755 "$work"   # the server runs as postgres when this runs as root
trap 'scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh

wal_segments "$segments"   # the cluster at $work/pg, the segments in $work/segments
system=$("$bin/pg_controldata" "$work/pg/data" | awk -F': *' '/Database system identifier/{print $2}')

"$drctl" keygen --out "$work/key" >/dev/null
wal_policy "$work/policy.yaml" "$work/repo" "$work/key"
for segment in "$work/segments"/*; do
  "$drctl" wal-push --policy "$work/policy.yaml" --target main --pgdata "$work/pg/data" --log-level warning "$segment"
done
for spool in "$work/spool" off; do
  : > "$work/times"
  echo "spool $spool: load $(cut -d' ' -f1-3 /proc/loadavg) before, $(nproc) cores"
  for segment in "$work/segments"/*; do
    name=$(basename "$segment")
    rm -f "$work/fetched"
    # As in a recovery whose replay takes longer than the worker's opening: the segment is spooled.
    if [ "$spool" != off ] && [ -e "$spool/worker.lock" ]; then
      until [ -e "$spool/$name" ] || flock -n "$spool/worker.lock" true; do sleep 0.01; done
    fi
    /usr/bin/time -f "%U %S %M" -a -o "$work/times" "$drctl" wal-fetch --policy "$work/policy.yaml" --target main \
      --system-identifier "$system" --spool "$spool" --log-level warning "$name" "$work/fetched"
    cmp -s "$segment" "$work/fetched" || { echo "bench-wal-fetch: $name came back different" >&2; exit 1; }
  done
  awk -v spool="$spool" '{ u += $1; s += $2; if ($3 > rss) rss = $3 }
    END { printf "spool %s: %d segments, CPU %.3f s/segment (user %.3f, system %.3f), peak RSS %.1f MiB\n",
                 spool, NR, (u + s) / NR, u / NR, s / NR, rss / 1024 }' "$work/times"
done
# The worker's own CPU (off the critical path, on another core): every segment after the first.
first=$(basename "$(ls "$work/segments"/* | head -1)")
count=$(($(ls "$work/segments" | wc -l) - 1))
until flock -n "$work/spool/worker.lock" true; do sleep 0.1; done
rm -f "$work/spool"/0*
/usr/bin/time -f "%U %S %M" -o "$work/times" "$drctl" wal-read-ahead --policy "$work/policy.yaml" --target main \
  --system-identifier "$system" --spool "$work/spool" --read-ahead "$count" --log-level warning "$first"
for segment in "$work/segments"/*; do
  [ "$(basename "$segment")" = "$first" ] || cmp -s "$segment" "$work/spool/$(basename "$segment")" \
    || { echo "bench-wal-fetch: $(basename "$segment") spooled different" >&2; exit 1; }
done
awk -v n="$count" '{ printf "worker: %d segments spooled, CPU %.3f s/segment (user %.3f, system %.3f), peak RSS %.1f MiB\n",
                      n, ($1 + $2) / n, $1 / n, $2 / n, $3 / 1024 }' "$work/times"
