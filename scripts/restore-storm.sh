#!/usr/bin/env bash
# Restores through an S3 storm, the issue's full run: one backup of MB megabytes of
# incompressible bytes (made directly against moto), restored RESTORES times through the fault
# relay (503 SlowDown on a fifth of requests, resets and bodies cut in the middle on a tenth
# each, 3 s stalls on one in fifty), each restore compared by SHA-256 with the source.
#   scripts/restore-storm.sh [MB] [RESTORES] [SEED...]   # default: 200 10 1 2
# It runs the suite's S3FaultRegionTests/restoresSurviveAStorm (24 MB, 3 restores) at full size,
# once per seed, and prints each restore's time and the relay's counts.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes="${1:-200}"
restores="${2:-10}"
shift $(( $# < 2 ? $# : 2 ))
seeds=("${@:-1 2}")
swift build --build-tests >/dev/null
status=0
for seed in ${seeds[*]}; do
    echo "seed $seed: $restores restores of $megabytes MB"
    started=$(date +%s)
    DRCTL_STORM_MB="$megabytes" DRCTL_STORM_RESTORES="$restores" DRCTL_STORM_SEED="$seed" \
        swift test --skip-build --filter 'S3FaultRegionTests/restoresSurviveAStorm' > "/tmp/restore-storm-$seed.log" 2>&1 || status=1
    grep -E '^storm|✘' "/tmp/restore-storm-$seed.log" || true
    echo "seed $seed: $(( $(date +%s) - started )) s in all (the backup included); log /tmp/restore-storm-$seed.log"
done
exit $status
