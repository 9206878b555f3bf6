#!/usr/bin/env bash
# Installs the Debian packages drctl builds and tests with. Idempotent: does nothing when
# everything is already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  pkg-config
  libzstd-dev libssl-dev libcurl4-openssl-dev libpq-dev   # the C libraries drctl links
  zstd openssl curl                                       # used by tests and benchmarks
  postgresql postgresql-contrib redis-server redis-tools  # real servers the tests start themselves
  locales                                                 # localedef: a locale only one test cluster has
  util-linux procps strace gdb                            # mount (tmpfs disk-full test), ps; strace: which syscalls a restore makes; gdb: backtraces of a crashed drctl in tests
  prometheus systemd                                      # promtool and systemd-analyze check deploy/
  chromium fonts-dejavu-core poppler-utils                # the HTML drill report rendered headless; pdftotext checks its pages
)

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

# The S3-compatible server the tests run (moto), and standard S3 clients for interoperability
# checks (aws-cli, boto3), from PyPI.
if ! python3 -c 'import moto.server, boto3, yaml' 2>/dev/null || ! command -v aws >/dev/null; then
  echo "installing from PyPI: moto[server] boto3 awscli pyyaml" >&2
  python3 -m pip install -q 'moto[server]' boto3 awscli pyyaml
fi
