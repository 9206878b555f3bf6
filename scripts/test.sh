#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test.
#   scripts/test.sh                 # everything (Swift tests, then scripts/test-deploy.sh, scripts/restore-storm.sh and scripts/test-package.sh)
#   scripts/test.sh --filter Crypto # a subset (arguments go to `swift test`)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/python-venv.sh   # the tests find it themselves; the scripts after them use PATH
swift build --build-tests
swift test --skip-build "$@"
# The deployment files (alert rules, systemd units, Kubernetes manifests), 10 restores of
# 200 MB through an S3 storm (issue #21's run; about 2 minutes), and the Debian package
# installed, upgraded and purged (the release build and two packages), unless a subset was asked for.
[ $# -gt 0 ] || { scripts/test-deploy.sh && scripts/restore-storm.sh 200 10 1 && scripts/test-package.sh; }
