#!/usr/bin/env bash
# Builds drctl as the image ships it (Dockerfile: release, Swift runtime linked statically) and
# prints the binary's path. The benchmarks and the demo measure and run this build: linked
# dynamically, the Swift runtime's shared libraries alone add about 11 MiB of resident pages.
#
#   drctl=$(scripts/build-release.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build -c release --product drctl --static-swift-stdlib > "$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
echo "$(swift build -c release --static-swift-stdlib --show-bin-path)/drctl"
