#!/usr/bin/env bash
# Installs the Debian packages drctl builds and tests with. Idempotent: does nothing when
# everything is already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  pkg-config
  libzstd-dev libssl-dev libcurl4-openssl-dev libpq-dev   # the C libraries drctl links
  zstd openssl                                            # used by tests and benchmarks
  postgresql postgresql-contrib redis-server redis-tools  # real servers the tests start themselves
  util-linux procps                                       # mount (tmpfs disk-full test), ps
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
