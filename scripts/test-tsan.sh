#!/usr/bin/env bash
# The Swift test suite under ThreadSanitizer: every data race a test provokes, in the test
# process or in a drctl binary it runs, is reported and fails the run.
#   scripts/test-tsan.sh                    # the whole suite
#   scripts/test-tsan.sh --filter DrctlJobs # a subset (arguments go to `swift test`)
#   nice -n 19 scripts/test-tsan.sh         # on a shared machine: only spare CPU
# It builds into its own scratch path, .build-tsan, so it never disturbs .build (the end-to-end
# tests find the drctl beside their test bundle: here the instrumented one). Reports go to
# $TSAN_LOG_DIR (default .build-tsan/reports), one file per process that raced; the script
# prints them and exits 1 when there is any, even if every test passed. The whole suite takes
# about four times as long as scripts/test.sh (docs/ARCHITECTURE.md, "Concurrency").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/python-venv.sh   # the tests find it themselves; the scripts after them use PATH

scratch=.build-tsan
reports=${TSAN_LOG_DIR:-$PWD/$scratch/reports}
mkdir -p "$reports"
rm -f "$reports"/tsan.*

swift build --build-tests --sanitize=thread --scratch-path "$scratch"
# Swift's Mutex hands a contended lock over where the tool cannot see it; this library tells it
# (scripts/tsan/mutex-handover.c). Built with the Swift toolchain's clang, which knows swiftcall.
toolchain=$(dirname "$(readlink -f "$(command -v swift)")")
"$toolchain/clang" -shared -fPIC -O2 -Wall -o "$scratch/libmutex-handover.so" scripts/tsan/mutex-handover.c -ldl

# log_path: reports to files, not to the stderr the tests read and compare; a process that
# raced still exits 66. disable_coredump=0: the crash-report tests need drctl's core (TSan turns
# cores off by default; its shadow memory is left out of them anyway). history_size: deeper
# stacks for the earlier access of a race.
status=0
LD_PRELOAD="$PWD/$scratch/libmutex-handover.so${LD_PRELOAD:+:$LD_PRELOAD}" \
TSAN_OPTIONS="log_path=$reports/tsan disable_coredump=0 history_size=4 ${TSAN_OPTIONS:-}" \
  swift test --skip-build --sanitize=thread --scratch-path "$scratch" "$@" || status=$?

shopt -s nullglob
found=("$reports"/tsan.*)
if [ ${#found[@]} -gt 0 ]; then
  for report in "${found[@]}"; do echo "=== $report"; cat "$report"; done
  echo "test-tsan.sh: ThreadSanitizer reported in ${#found[@]} process(es); reports in $reports" >&2
  exit 1
fi
[ "$status" -eq 0 ] || { echo "test-tsan.sh: the tests failed (status $status), no race reported" >&2; exit "$status"; }
echo "test-tsan.sh: no race reported"
