#!/usr/bin/env bash
# Installs what drctl needs on Debian 12, for one purpose. Idempotent: does nothing when
# everything is already there. Needs root (or sudo) only when a Debian package is missing.
#   scripts/install-deps.sh          # test: everything scripts/test.sh and the benchmarks use (the default)
#   scripts/install-deps.sh demo     # scripts/demo.sh: build drctl and the servers it backs up
#   scripts/install-deps.sh host     # a production host running a built drctl (the image's runtime stage)
#   scripts/install-deps.sh build    # compiling drctl
#   scripts/install-deps.sh package  # compiling drctl and packaging it, scripts/package-deb.sh (the image's build stage)
#   scripts/install-deps.sh --list PURPOSE   # print the Debian packages of PURPOSE, install nothing
# The test tools from PyPI (moto, boto3, aws-cli, PyYAML, cryptography) go into a virtual
# environment, $DRCTL_VENV (default: .venv in this checkout), never into the system's python3:
# Debian's refuses pip installs (PEP 668, EXTERNALLY-MANAGED). The tests and scripts run them
# from there (scripts/python-venv.sh, Tests/DrctlTestSupport/PythonTools.swift).
set -euo pipefail
cd "$(dirname "$0")/.."

build=(pkg-config libzstd-dev libssl-dev libcurl4-openssl-dev libpq-dev)   # the C libraries drctl links
host=(
  libzstd1 libssl3 libcurl4 libpq5 libstdc++6 ca-certificates tzdata   # the libraries a built drctl loads
  postgresql-client-15                                                  # pg_dump, pg_dumpall, pg_restore, psql
  postgresql-15 redis-server                                            # drills start scratch instances of these
)
package=("${build[@]}" dpkg-dev)                          # dpkg-dev: dpkg-shlibdeps, dpkg-gencontrol
demo=(
  "${build[@]}" "${host[@]}"
  redis-tools                                             # redis-cli, redis-check-rdb: the demo seeds and compares
  python3                                                 # a free loopback port (standard library only)
)
test=(
  "${demo[@]}"
  zstd openssl curl                                       # used by tests and benchmarks
  postgresql-contrib                                      # extensions the fidelity tests restore
  locales                                                 # localedef: a locale only one test cluster has
  util-linux procps strace gdb                            # mount (tmpfs disk-full test), ps; strace: which syscalls a restore makes; gdb: backtraces of a crashed drctl in tests
  prometheus systemd                                      # promtool and systemd-analyze check deploy/
  chromium fonts-dejavu-core poppler-utils                # the HTML drill report rendered headless; pdftotext checks its pages
  python3-venv                                            # the virtual environment of the PyPI test tools
  dpkg-dev lintian man-db                                 # scripts/test-package.sh: package, lint, render the man pages
)
pypi=('moto[server]' boto3 awscli pyyaml cryptography)    # moto: the S3 server the tests run; aws-cli, boto3: standard clients for interoperability checks

list=false
[ "${1:-}" = "--list" ] && { list=true; shift; }
purpose=${1:-test}
case "$purpose" in
  build) packages=("${build[@]}") ;;
  package) packages=("${package[@]}") ;;
  host) packages=("${host[@]}") ;;
  demo) packages=("${demo[@]}") ;;
  test) packages=("${test[@]}") ;;
  *) echo "install-deps.sh: unknown purpose '$purpose' (build, package, host, demo or test)" >&2; exit 2 ;;
esac
if $list; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "$purpose" = test ] || exit 0
source scripts/python-venv.sh
if [ ! -x "$DRCTL_VENV/bin/python3" ]; then
  echo "creating the virtual environment $DRCTL_VENV" >&2
  python3 -m venv "$DRCTL_VENV"
fi
if ! "$DRCTL_VENV/bin/python3" -c 'import moto.server, boto3, yaml, cryptography' 2>/dev/null || [ ! -x "$DRCTL_VENV/bin/aws" ]; then
  echo "installing from PyPI into $DRCTL_VENV: ${pypi[*]}" >&2
  "$DRCTL_VENV/bin/python3" -m pip install -q "${pypi[@]}"
fi
