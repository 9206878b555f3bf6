#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test.
#   scripts/test.sh                 # everything
#   scripts/test.sh --filter Crypto # a subset (arguments go to `swift test`)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
