#!/usr/bin/env bash
# Benchmark of the backup and restore pipeline against the tools it builds on (issue #2):
#   backup of `cat corpus` into the local store   vs  zstd -3 -T0 corpus -o out.zst
#   restore to a file                             vs  zstd -d out.zst -o restored
#     (drctl restore --no-sync vs zstd -d; drctl restore vs zstd -d && sync FILE)
#   peak RSS of drctl for a 1 GiB and a 4 GiB corpus.
# drctl fsyncs a backup's objects and a restored file before it reports success; zstd does not,
# so each baseline is also measured followed by `sync FILE` (informational ratios).
# Ratios come with their CPU floor (scripts/bench-lib.sh): the ratio the same work would reach
# with no core ever idle. `cat | zstd` alone is the least work a backup of `cat corpus` does.
# The corpus is generated, not downloaded: a plain pg_dump of `pgbench -s 50` plus random
# text (base64 of random bytes) up to 1 GiB, cached in $BENCH_DIR.
#
#   scripts/bench-pipeline.sh            # BENCH_DIR=bench-out, 3 runs per measurement
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}
runs=${RUNS:-3}
mkdir -p "$bench"
scripts/install-deps.sh
# shellcheck source=bench-lib.sh
. scripts/bench-lib.sh   # free_port, measure
command -v pgbench >/dev/null || { echo "pgbench is needed: apt-get install postgresql-contrib" >&2; exit 1; }

corpus=$bench/corpus
if [ ! -s "$corpus" ]; then
  echo "generating the corpus (pgbench -s 50 dump + random text)..." >&2
  pgdir=$bench/pg
  rm -rf "$pgdir"; mkdir -p "$pgdir"
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  port=$(free_port)
  "${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -A trust -U postgres >/dev/null
  "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1" -l "$pgdir/log" -w start >/dev/null
  trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true' EXIT
  "$bin/pgbench" -h 127.0.0.1 -p "$port" -U postgres -i -s 50 -q postgres >/dev/null 2>&1
  "$bin/pg_dump" -h 127.0.0.1 -p "$port" -U postgres postgres > "$corpus.tmp"
  "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null
  trap - EXIT
  rm -rf "$pgdir"
  # Random text up to 1 GiB in all.
  dump=$(stat -c %s "$corpus.tmp")
  # (the last head closes the pipe early: SIGPIPE upstream is expected, the size is checked)
  (set +o pipefail; base64 -w 100 /dev/urandom | head -c $((1024 * 1024 * 1024 - dump)) >> "$corpus.tmp")
  [ "$(stat -c %s "$corpus.tmp")" -eq $((1024 * 1024 * 1024)) ]
  mv "$corpus.tmp" "$corpus"
fi
size=$(stat -c %s "$corpus")

drctl=$(scripts/build-release.sh)

# A policy for drctl on the same disk.
work=$bench/work
rm -rf "$work"; mkdir -p "$work"
"$drctl" keygen --out "$work/key" >/dev/null
cat > "$work/policy.yaml" <<YAML
version: 1
repository:
  regions:
    - name: local
      url: $work/repo
  compression: {level: 3, threads: 0}
  encryption: {key_file: $work/key}
targets:
  - name: corpus
    kind: command
    command: ["cat", "$corpus"]
  - name: corpus4
    kind: command
    command: ["sh", "-c", "cat '$corpus' '$corpus' '$corpus' '$corpus'"]
YAML


for run in $(seq "$runs"); do
  rm -rf "$work/out.zst" "$work/out-pipe.zst" "$work/restored-zstd" "$work/restored-drctl" "$work/repo"
  measure zstd-compress zstd -q -3 -T0 "$corpus" -o "$work/out.zst"
  measure zstd-compress-pipe sh -c "cat '$corpus' | zstd -q -3 -T0 -o '$work/out-pipe.zst'"
  rm -f "$work/out-pipe.zst"
  # drctl's store fsyncs what it wrote before the backup counts; zstd does not.
  measure zstd-compress-fsync sh -c "cat '$corpus' | zstd -q -3 -T0 -o '$work/out-pipe.zst' && sync '$work/out-pipe.zst'"
  measure drctl-backup "$drctl" backup --policy "$work/policy.yaml" --target corpus
  measure zstd-decompress zstd -q -d "$work/out.zst" -o "$work/restored-zstd"
  rm -f "$work/restored-zstd"
  # A restored file is fsynced before it is put in place; zstd's output is not.
  measure zstd-decompress-fsync sh -c "zstd -q -d '$work/out.zst' -o '$work/restored-zstd' && sync '$work/restored-zstd'"
  measure drctl-restore "$drctl" restore --policy "$work/policy.yaml" --target corpus --to "$work/restored-drctl"
  cmp "$corpus" "$work/restored-drctl"
  rm -f "$work/restored-drctl" "$work/restored-zstd"
  # Like for like with zstd -d: the restored file left to the kernel to write.
  measure drctl-restore-nosync "$drctl" restore --policy "$work/policy.yaml" --target corpus --to "$work/restored-drctl" --no-sync
  cmp "$corpus" "$work/restored-drctl"
done
rm -rf "$work/repo" "$work/out.zst" "$work/out-pipe.zst" "$work/restored-zstd" "$work/restored-drctl"
measure drctl-backup-4x "$drctl" backup --policy "$work/policy.yaml" --target corpus4
rm -rf "$work/repo"

echo "corpus: $(awk -v s="$size" 'BEGIN{printf "%.2f", s / 2^30}') GiB"
scripts/bench-summary.py "$work/results" \
  'drctl-backup/zstd-compress;backup / zstd -3 -T0;1.10' \
  'drctl-backup/zstd-compress-pipe;backup / cat | zstd (the same input path as drctl);-' \
  'drctl-backup/zstd-compress-fsync;backup / cat | zstd, sync (durable like drctl);-' \
  'drctl-restore-nosync/zstd-decompress;restore --no-sync / zstd -d (neither syncs);1.10' \
  'drctl-restore/zstd-decompress-fsync;restore / zstd -d, sync (both durable);1.10' \
  'drctl-restore/zstd-decompress;restore (durable) / zstd -d (not);-' \
  --floor 'zstd-compress-pipe/zstd-compress;cat | zstd alone, the least work of a backup of cat corpus;1.10' \
  --rss 'drctl-backup;1 GiB backup;64 MiB' 'drctl-backup-4x;4 GiB backup;64 MiB, the same within 10%'
