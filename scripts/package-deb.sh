#!/usr/bin/env bash
# Builds the Debian package drctl_<version>_<arch>.deb from the release build
# (scripts/build-release.sh: the Swift runtime linked statically) and prints its path. The
# Dockerfile's build stage runs this script; scripts/test-package.sh installs what it makes.
#   scripts/package-deb.sh [OUT_DIR]    # default: .build/deb
#
# What goes in, and from where (nothing is written by hand twice):
#   /usr/bin/drctl                          the release build, stripped
#   /usr/share/man/man1/drctl*.1.gz         swift-argument-parser's generate-manual plugin, from
#                                           the binary's own --experimental-dump-help (= --help)
#   bash, zsh, fish completions             drctl --generate-completion-script SHELL
#   /lib/systemd/system, /usr/lib/drctl     deploy/systemd (no unit is enabled on install)
#   /etc/drctl/policy.yaml (conffile)       policies/example.yaml
#   control, maintainer scripts, copyright  deploy/debian; Depends from dpkg-shlibdeps and control
#   /usr/share/doc/drctl                    README.md, docs/OPERATIONS.md, docs/POLICY.md
#
# The version is the VERSION file's, the one the build compiles into drctl (Plugins/VersionFile):
# a binary reporting another version is refused. DRCTL_DEB_VERSION=V packages the same binary
# as version V instead, without that check: only for scripts/test-package.sh's upgrade test,
# which needs an older package and has one release build.
# DRCTL_BINARY=PATH packages that binary instead of building (scripts/test-package.sh reuses its
# build). SOURCE_DATE_EPOCH (default: the last commit's time) dates the changelog and man pages.
# Needs the `package` packages of scripts/install-deps.sh (dpkg-dev: dpkg-shlibdeps, dpkg-gencontrol).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/deb}

version=$(cat VERSION)
drctl=${DRCTL_BINARY:-$(scripts/build-release.sh)}
built=$("$drctl" --version)
if [ -n "${DRCTL_DEB_VERSION:-}" ]; then
  version=$DRCTL_DEB_VERSION
elif [ "$built" != "drctl $version" ]; then
  echo "package-deb: $drctl reports '$built', VERSION says $version: rebuild (scripts/build-release.sh)" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A debian/ directory as dpkg-shlibdeps and dpkg-gencontrol expect it; the package's files
# are staged in debian/drctl.
mkdir -p "$work/debian"
cp deploy/debian/control "$work/debian/control"
root=$work/debian/drctl
doc=$root/usr/share/doc/drctl
maintainer=$(sed -n 's/^Maintainer: //p' deploy/debian/control)
{
  echo "drctl ($version) unstable; urgency=medium"
  echo
  echo "  * drctl $version, built from the drctl repository."
  echo
  echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} > "$work/debian/changelog"

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/drctl" "$root/lib/systemd/system" \
  "$root/etc/drctl" "$root/usr/share/man/man1" "$doc" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d"

install -m 0755 "$drctl" "$root/usr/bin/drctl"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/drctl"
install -m 0755 deploy/systemd/notify-failure "$root/usr/lib/drctl/notify-failure"
install -m 0644 deploy/systemd/*.service deploy/systemd/*.timer "$root/lib/systemd/system/"
install -m 0644 policies/example.yaml "$root/etc/drctl/policy.yaml"

# The man pages: swift-argument-parser's generate-manual plugin runs its tool, generate-manual,
# on the binary, which reads `drctl --experimental-dump-help`: the definitions --help prints.
# The plugin itself first rebuilds the whole package in release without --static-swift-stdlib
# (a second full build, minutes); asked for --help it builds only its tool, which then runs
# here on the release build itself.
pages=$work/man
mkdir -p "$pages"
log=$work/generate-manual.log
if ! swift package plugin generate-manual --help > "$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
tool="$(swift build --show-bin-path)/generate-manual-tool"
[ -x "$tool" ] || { echo "package-deb: the generate-manual plugin built no $tool" >&2; exit 1; }
"$tool" "$drctl" --multi-page --output-directory "$pages" \
  --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)" \
  --authors "$(sed 's/ <.*//' <<< "$maintainer")<${maintainer##*<}"
# Two corrections of generate-manual's mdoc, for lexgrog (whatis, apropos) and man --warnings
# (lintian's bad-whatis-entry, groff-message): a subcommand's NAME is one word, drctl.keygen
# like its file, where generate-manual writes "drctl keygen" (and the synopsis's bare .Nm,
# which would repeat that name, names the command instead); an empty line in a discussion
# becomes a paragraph break.
for page in "$pages"/*.1; do
  name=$(basename "$page" .1)
  command=${name//./ }
  sed -e "s/^\.Nm \"$command\"\$/.Nm $name/" -e "s/^\.Nm\$/.Nm \"$command\"/" -e 's/^$/.Pp/' "$page" \
    | gzip -9n > "$root/usr/share/man/man1/$name.1.gz"
done

# Sourced, not run: no #! line (lintian's bash-completion-with-hashbang).
"$drctl" --generate-completion-script bash | sed '1{/^#!/d}' > "$root/usr/share/bash-completion/completions/drctl"
"$drctl" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_drctl"
"$drctl" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/drctl.fish"

install -m 0644 deploy/debian/copyright "$doc/copyright"
gzip -9n < "$work/debian/changelog" > "$doc/changelog.gz"
install -m 0644 README.md docs/OPERATIONS.md docs/POLICY.md "$doc/"
if [ -f deploy/debian/lintian-overrides ]; then
  install -d -m 0755 "$root/usr/share/lintian/overrides"
  install -m 0644 deploy/debian/lintian-overrides "$root/usr/share/lintian/overrides/drctl"
fi

install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"
echo /etc/drctl/policy.yaml > "$root/DEBIAN/conffiles"
chmod 0644 "$root"/usr/share/bash-completion/completions/drctl "$root"/usr/share/zsh/vendor-completions/_drctl \
  "$root"/usr/share/fish/vendor_completions.d/drctl.fish "$root"/usr/share/man/man1/*.gz "$doc/changelog.gz"

# Depends: the packages of the shared libraries drctl links (OpenSSL's libcrypto, zstd, and the
# C and C++ runtime), nothing else; plus libpq5 and libcurl4,
# named in deploy/debian/control since drctl loads them on first use (dlopen), out of
# dpkg-shlibdeps' sight (libcurl 7.75: CURLOPT_AWS_SIGV4).
(cd "$work" && dpkg-shlibdeps -Tdebian/drctl.substvars debian/drctl/usr/bin/drctl)
(cd "$work" && dpkg-gencontrol -pdrctl -Pdebian/drctl -Tdebian/drctl.substvars -v"$version")
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

mkdir -p "$out"
deb="$out/drctl_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
