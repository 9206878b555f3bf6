#!/usr/bin/env bash
# Checks the Debian package (scripts/package-deb.sh) by installing it on this machine with apt
# and purging it at the end (run by scripts/test.sh; CI machines are throwaway and run as root):
#   - Depends: resolves here, and names only packages of `scripts/install-deps.sh host` or the
#     C runtime (no test-only package);
#   - lintian: no error or warning (deploy/debian/lintian-overrides gives each override's reason);
#   - an older build (the same binary packaged as VERSION~test) installed, the conffile
#     /etc/drctl/policy.yaml changed locally, then this build installed over it: the change and
#     a key in /etc/drctl/keys survive the upgrade;
#   - `drctl version` and `--version` report the package's version;
#   - a man page for drctl and every subcommand (from --experimental-dump-help), each naming
#     every option --help shows and the command's abstract, and each rendered by `man -l`
#     without a warning;
#   - the bash completion loads (`complete -p drctl`) and completes the subcommands; the zsh and
#     fish scripts are the binary's;
#   - `systemd-analyze verify` of the installed units; none is enabled;
#   - the system user `drctl` exists and owns /var/lib/drctl; it can read the policy and its key
#     and run a backup and a verify;
#   - purge removes the user, the group and the conffile, and keeps /etc/drctl/keys with a key in it;
#   - installed again as the Dockerfile's runtime stage installs it (scripts/install-package.sh
#     --uid 10001): the user keeps uid 10001, and it reads the keys the purge kept;
#   - package-deb.sh refuses a binary whose version is not VERSION's.
# The release build happens once; both packages are made from it, the newer by the command the
# Dockerfile's build stage runs.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
[ "$(id -u)" -eq 0 ] || { echo "test-package: installs and purges a package: run as root (CI does)" >&2; exit 1; }
if dpkg-query -W -f='${Status}' drctl 2>/dev/null | grep -q "installed"; then
  echo "test-package: the drctl package is installed on this machine; this test installs and purges it: remove it first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
cleanup() {
  if dpkg-query -W -f='${Status}' drctl 2>/dev/null | grep -q "installed\|config-files"; then dpkg --purge drctl >/dev/null 2>&1 || true; fi
  rm -rf /etc/drctl/keys "$work"
  rmdir /etc/drctl 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "test-package: $*" >&2; exit 1; }

version=$(cat VERSION)
echo "package: building drctl $version (release) and two packages of it" >&2
drctl=$(scripts/build-release.sh)
deb=$(scripts/package-deb.sh "$work/new")   # as the Dockerfile's build stage runs it
older=$(DRCTL_BINARY="$drctl" DRCTL_DEB_VERSION="$version~test" scripts/package-deb.sh "$work/old")
[ "$(basename "$deb")" = "drctl_${version}_$(dpkg --print-architecture).deb" ] || fail "unexpected package name $deb"
dpkg --compare-versions "$version~test" lt "$version" || fail "$version~test does not sort before $version"
# A build of another version (VERSION edited since) is refused, not packaged under VERSION's name.
printf '#!/bin/sh\necho "drctl %s"\n' "$version+stale" > "$work/stale-drctl" && chmod 0755 "$work/stale-drctl"
if DRCTL_BINARY="$work/stale-drctl" scripts/package-deb.sh "$work/stale" 2> "$work/stale.err"; then
  fail "package-deb.sh packaged a binary that reports $version+stale as $version"
fi
grep -q "reports 'drctl $version+stale', VERSION says $version" "$work/stale.err" || fail "package-deb.sh refused a stale binary with: $(cat "$work/stale.err")"

echo "package: Depends" >&2
depends=$(dpkg-deb -f "$deb" Depends)
echo "  Depends: $depends" >&2
# Allowed: the host list, and the C runtime every Debian program runs on (libc6 and what it
# depends on: libgcc-s1).
allowed=$(scripts/install-deps.sh --list host; echo libc6; apt-cache depends --no-recommends --no-suggests libc6 | sed -n 's/^ *Depends: //p')
for name in $(tr ',' '\n' <<< "$depends" | sed 's/^ *//; s/[ (].*//'); do
  grep -qx "$name" <<< "$allowed" || fail "Depends names $name, which is neither in 'scripts/install-deps.sh host' nor the C runtime (libc6 and its Depends)"
done
for library in libpq5 libcurl4 libssl3 libzstd1; do
  grep -qw "$library" <<< "$depends" || fail "Depends lacks $library"
done
# Resolves on this machine: apt would install the package and nothing it cannot find.
apt-get install -s --no-install-recommends "$deb" > "$work/simulate" 2>&1 || { cat "$work/simulate" >&2; fail "apt cannot install $deb"; }

echo "package: lintian" >&2
lintian --fail-on error,warning --display-info --pedantic "$deb" | tee "$work/lintian" | sed 's/^/  /' >&2 \
  || fail "lintian reported errors or warnings (above)"

echo "package: install $(basename "$older"), change the conffile, upgrade to $(basename "$deb")" >&2
scripts/install-package.sh "$older"
[ "$(dpkg-query -W -f='${Version}' drctl)" = "$version~test" ] || fail "the older package is not installed"
getent passwd drctl > /dev/null || fail "postinst created no drctl user"
echo "# a local change, kept across upgrades" >> /etc/drctl/policy.yaml
policy_sum=$(sha256sum < /etc/drctl/policy.yaml)
/usr/bin/drctl keygen --out /etc/drctl/keys/backup.key --public-out /etc/drctl/keys/backup.pub > /dev/null
chgrp drctl /etc/drctl/keys/backup.key /etc/drctl/keys/backup.pub && chmod 0640 /etc/drctl/keys/backup.key /etc/drctl/keys/backup.pub
key_sum=$(sha256sum < /etc/drctl/keys/backup.key)
scripts/install-package.sh "$deb"
[ "$(dpkg-query -W -f='${Version}' drctl)" = "$version" ] || fail "the upgrade did not install $version"
[ "$(sha256sum < /etc/drctl/policy.yaml)" = "$policy_sum" ] || fail "the upgrade replaced the locally changed /etc/drctl/policy.yaml"
[ ! -e /etc/drctl/policy.yaml.dpkg-new ] && [ ! -e /etc/drctl/policy.yaml.dpkg-dist ] || fail "the upgrade left a .dpkg-new/.dpkg-dist policy"
[ "$(sha256sum < /etc/drctl/keys/backup.key)" = "$key_sum" ] || fail "the upgrade changed /etc/drctl/keys/backup.key"
[ "$(dpkg-query -W -f='${Conffiles}' drctl | awk 'NF {print $1}')" = /etc/drctl/policy.yaml ] || fail "the conffiles are not exactly /etc/drctl/policy.yaml"

echo "package: the installed drctl" >&2
[ "$(command -v drctl)" = /usr/bin/drctl ] || fail "drctl on PATH is $(command -v drctl), not /usr/bin/drctl"
[ "$(drctl --version)" = "drctl $version" ] || fail "drctl --version says '$(drctl --version)', the package is $version"
report=$(drctl version)
[ "${report%%$'\n'*}" = "drctl $version" ] || fail "drctl version says '$report'"

echo "package: the drctl user" >&2
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd drctl)
[ "$uid" -lt 1000 ] || fail "drctl's uid $uid is not a system uid"
[ "$home" = /var/lib/drctl ] && [ "$shell" = /usr/sbin/nologin ] || fail "drctl's home or shell: $home $shell"
[ "$(stat -c '%U:%G %a' /var/lib/drctl)" = "drctl:drctl 750" ] || fail "/var/lib/drctl is $(stat -c '%U:%G %a' /var/lib/drctl)"
[ "$(stat -c '%U:%G %a' /etc/drctl/keys)" = "root:drctl 750" ] || fail "/etc/drctl/keys is $(stat -c '%U:%G %a' /etc/drctl/keys)"
# The service user validates the installed policy with its key, then backs up and verifies
# into its state directory (a policy of one command target, as the units would run it).
cd /
runuser -u drctl -- drctl policy validate /etc/drctl/policy.yaml >&2 || fail "the drctl user cannot validate /etc/drctl/policy.yaml"
cat > "$work/policy.yaml" <<'YAML'
version: 1
repository:
  regions:
    - name: local
      url: file:///var/lib/drctl/test-package-repo
  encryption:
    key_file: /etc/drctl/keys/backup.key
    public_key_file: /etc/drctl/keys/backup.pub
targets:
  - name: etc
    kind: command
    command: ["cat", "/etc/os-release"]
YAML
chmod 0755 "$work" && chmod 0644 "$work/policy.yaml"
runuser -u drctl -- drctl backup --policy "$work/policy.yaml" >&2 || fail "the drctl user's backup failed"
runuser -u drctl -- drctl verify --policy "$work/policy.yaml" --target etc >&2 || fail "the drctl user's verify failed"
rm -rf /var/lib/drctl/test-package-repo
cd "$OLDPWD"

echo "package: man pages" >&2
drctl --experimental-dump-help > "$work/help.json"
python3 - "$work/help.json" <<'PY' || fail "man pages (above)"
import gzip, json, os, subprocess, sys
def pages(command, parents=()):
    path = parents + (command["commandName"],)
    yield path, command
    for sub in command.get("subcommands", []):
        yield from pages(sub, path)
root = json.load(open(sys.argv[1]))["command"]
installed = set(os.listdir("/usr/share/man/man1"))
expected = {".".join(path) + ".1.gz": command for path, command in pages(root)}
problems = [f"no man page {name}" for name in sorted(set(expected) - installed)]
problems += [f"a man page for no command: {name}" for name in sorted(n for n in installed - set(expected) if n.startswith("drctl"))]
for name, command in sorted(expected.items()):
    if name not in installed:
        continue
    path = f"/usr/share/man/man1/{name}"
    rendered = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                              env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""})
    if rendered.returncode != 0 or rendered.stderr.strip():
        problems.append(f"man -l {path}: exit {rendered.returncode}: {rendered.stderr.strip()}")
    text = rendered.stdout.replace("\u2010", "-")
    for argument in command.get("arguments", []):
        if not argument.get("shouldDisplay", True):
            continue   # hidden from --help, and so from the page
        for name_ in argument.get("names", []):
            if name_["kind"] == "long" and f"--{name_['name']}" not in text:
                problems.append(f"{path} lacks --{name_['name']}")
    abstract = command.get("abstract", "")
    if abstract and " ".join(abstract.split()[:4]) not in " ".join(text.split()):
        problems.append(f"{path} lacks the abstract '{abstract}'")
if problems:
    sys.exit("\n".join(problems))
print(f"  {len(expected)} pages render and name every option", file=sys.stderr)
PY

echo "package: completions" >&2
bash -c 'source /usr/share/bash-completion/completions/drctl && complete -p drctl' | grep -q " drctl$" \
  || fail "the bash completion registers nothing for drctl"
completed=$(bash -c 'source /usr/share/bash-completion/completions/drctl
  spec=$(complete -p drctl); function=${spec#*-F }; function=${function%% *}
  COMP_WORDS=(drctl ba); COMP_CWORD=1; COMP_LINE="drctl ba"; COMP_POINT=${#COMP_LINE}
  "$function" drctl ba drctl; printf "%s\n" "${COMPREPLY[@]}"')
grep -qx backup <<< "$completed" || fail "bash completes 'drctl ba' to '$completed', not backup"
cmp -s /usr/share/zsh/vendor-completions/_drctl <(drctl --generate-completion-script zsh) || fail "the zsh completion is not the binary's"
cmp -s /usr/share/fish/vendor_completions.d/drctl.fish <(drctl --generate-completion-script fish) || fail "the fish completion is not the binary's"

echo "package: systemd units" >&2
units=$(dpkg -L drctl | grep -E '^/lib/systemd/system/.*\.(service|timer)$')
[ "$(wc -l <<< "$units")" -eq "$(ls deploy/systemd/*.service deploy/systemd/*.timer | wc -l)" ] || fail "the package lacks units of deploy/systemd"
# systemd is not PID 1 in this container: verify loads the units offline, as test-deploy.sh does.
out=$(systemd-analyze verify $units 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify failed"; }
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify warned"; }
if find /etc/systemd/system -name 'drctl*' | grep -q .; then fail "a drctl unit is enabled: $(find /etc/systemd/system -name 'drctl*')"; fi
echo "  $(wc -l <<< "$units") units verified, none enabled" >&2

echo "package: purge" >&2
dpkg --purge drctl > "$work/purge" 2>&1 || { cat "$work/purge" >&2; fail "dpkg --purge failed"; }
! getent passwd drctl > /dev/null || fail "the drctl user is left after purge"
! getent group drctl > /dev/null || fail "the drctl group is left after purge"
[ ! -e /usr/bin/drctl ] && [ ! -e /etc/drctl/policy.yaml ] || fail "purge left /usr/bin/drctl or /etc/drctl/policy.yaml"
[ "$(sha256sum < /etc/drctl/keys/backup.key)" = "$key_sum" ] || fail "purge removed the secret key in /etc/drctl/keys"
grep -q "/etc/drctl/keys is not empty and was kept" "$work/purge" || fail "purge kept the keys without saying so"

echo "package: reinstalled as the image installs it (scripts/install-package.sh --uid 10001)" >&2
scripts/install-package.sh --uid 10001 "$deb"
[ "$(id -u drctl):$(id -g drctl)" = 10001:10001 ] || fail "the image's drctl user is $(id drctl), not 10001"
[ "$(stat -c '%u:%g' /var/lib/drctl)" = 10001:10001 ] || fail "/var/lib/drctl is not the image user's"
# The keys the purge kept belong to the new user's group: the reinstalled units can read them.
[ "$(stat -c %G /etc/drctl/keys/backup.key)" = drctl ] || fail "the kept key's group is $(stat -c %G /etc/drctl/keys/backup.key), not drctl"
(cd / && runuser -u drctl -- drctl policy validate /etc/drctl/policy.yaml >&2) || fail "the image's user cannot validate the policy with the kept keys"
dpkg --purge drctl > "$work/purge" 2>&1 || { cat "$work/purge" >&2; fail "dpkg --purge failed"; }
! getent passwd drctl > /dev/null || fail "the drctl user is left after the second purge"

echo "package: OK in $((SECONDS - started)) s ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)" >&2
