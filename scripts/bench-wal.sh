#!/usr/bin/env bash
# wal-push per segment to a local directory repository (issue #25): real segments written by a
# PostgreSQL 15 under an insert load, each pushed once by a fresh `drctl wal-push` process, as
# the archiver runs it. Prints, per zstd level: the median and p99 wall time per segment, the
# mean CPU-seconds (user + system), the peak RSS (/usr/bin/time -v's "Maximum resident set
# size"), and the stored size against the segments' size, with the load average before each
# level (the machine is shared: the CPU-seconds are the figure the neighbours do not change).
# With RT=1 each push runs at a real-time priority (`chrt -f 10`): on a machine others share it
# then waits for no one, which is how it would run on an idle one (the kernel's own threads, the
# journal's among them, still take their turn). The archiver under a write load:
# scripts/bench-archiver.sh.
#
#   DRCTL=$(scripts/build-release.sh) SEGMENTS=100 LEVELS="1 3" scripts/bench-wal.sh
set -euo pipefail
cd "$(dirname "$0")/.."
drctl=${DRCTL:-$(scripts/build-release.sh)}
segments=${SEGMENTS:-100}
levels=${LEVELS:-1 3}
priority=()
[ "${RT:-0}" = 1 ] && priority=(chrt -f 10)
work=$(mktemp -d /tmp/drctl-bench-wal-XXXXXX)
chmod 0755 "$work"   # the server runs as postgres when this runs as root
trap 'scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh

wal_segments "$segments"   # the cluster at $work/pg, the segments in $work/segments

"$drctl" keygen --out "$work/key" >/dev/null
for level in $levels; do
  repo="$work/repo-$level"
  wal_policy "$work/policy-$level.yaml" "$repo" "$work/key"
  : > "$work/times-$level"
  echo "level $level: load $(cut -d' ' -f1-3 /proc/loadavg) before, $(nproc) cores"
  for segment in "$work/segments"/*; do
    # The wall time to the microsecond ($EPOCHREALTIME; time's own is in hundredths).
    started=$EPOCHREALTIME
    "${priority[@]}" /usr/bin/time -v -o "$work/time" "$drctl" wal-push --policy "$work/policy-$level.yaml" --target main \
      --pgdata "$work/pg/data" --compression-level="$level" --log-level warning "$segment"
    ended=$EPOCHREALTIME
    awk -F': ' -v w="$started $ended" 'BEGIN{split(w, t, " "); w = t[2] - t[1]} /User time/{u=$2} /System time/{s=$2}
                /Maximum resident/{r=$2} END{print w, u + s, r}' "$work/time" >> "$work/times-$level"
  done
  stored=$(du -sb "$repo/wal" | cut -f1)
  raw=$(du -sb "$work/segments" | cut -f1)
  sort -n "$work/times-$level" | awk -v level="$level" -v stored="$stored" -v raw="$raw" '
    { wall[NR] = $1; cpu += $2; if ($3 > rss) rss = $3 }
    END {
      p99 = wall[int(NR * 0.99 + 0.999)]; median = (NR % 2) ? wall[(NR + 1) / 2] : (wall[NR / 2] + wall[NR / 2 + 1]) / 2
      printf "level %s: %d segments, median %.3f s, p99 %.3f s, max %.3f s, CPU %.3f s/segment, peak RSS %.1f MiB, stored %.1f%% of %d MiB\n",
             level, NR, median, p99, wall[NR], cpu / NR, rss / 1024, 100 * stored / raw, raw / 1048576 }'
done
