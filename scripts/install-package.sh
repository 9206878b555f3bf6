#!/usr/bin/env bash
# Installs a drctl Debian package (scripts/package-deb.sh) on this Debian 12 machine with what it
# runs beside: the `host` packages of scripts/install-deps.sh (the PostgreSQL client programs,
# and the servers drills start), then the package with apt, which pulls the libraries in its
# Depends. The Dockerfile's runtime stage runs this script; so does scripts/test-package.sh.
#   scripts/install-package.sh [--uid UID] DEB
# --uid creates the user `drctl` (and its group) with that id first, as the image does (10001,
# the id deploy/kubernetes runs as); postinst keeps a user that exists. Without it, postinst
# creates a system user. Needs root.
set -euo pipefail
uid=""
if [ "${1:-}" = --uid ]; then
  uid=${2:?install-package.sh: --uid needs a number}
  shift 2
fi
deb=${1:?usage: install-package.sh [--uid UID] DEB}
[ -f "$deb" ] || { echo "install-package.sh: no such package: $deb" >&2; exit 2; }
case "$deb" in /*|./*|../*) ;; *) deb=./$deb ;; esac   # apt takes a file only as a path
if [ -n "$uid" ] && ! getent passwd drctl > /dev/null; then
  groupadd --system --gid "$uid" drctl
  useradd --system --uid "$uid" --gid drctl --home-dir /var/lib/drctl --no-create-home --shell /usr/sbin/nologin drctl
fi
"$(dirname "$0")/install-deps.sh" host
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" > /dev/null
