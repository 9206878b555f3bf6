#!/usr/bin/env bash
# The main job end to end on the embedded default (a local directory repository):
# keygen → backup of a command target → list → verify → restore, then checks the restored
# bytes are the original ones. Everything lives in $DEMO_DIR (default: a new temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
echo "building drctl (release)..." >&2
swift build -c release --product drctl >/dev/null
drctl=$root/.build/release/drctl

demo=${DEMO_DIR:-$(mktemp -d /tmp/drctl-demo.XXXXXX)}
mkdir -p "$demo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. a key pair (the secret key reads backups; a backup-only host needs just the public key)"
[ -f "$demo/backup.key" ] || "$drctl" keygen --out "$demo/backup.key" --public-out "$demo/backup.pub"

say "2. a policy: one local region, one target whose bytes are the output of tar"
cat > "$demo/policy.yaml" <<YAML
version: 1
repository:
  regions:
    - name: local
      url: $demo/repository
  min_regions: 1
  compression: {level: 3, threads: 0}
  encryption:
    key_file: $demo/backup.key
targets:
  - name: drctl-source
    kind: command
    command: ["tar", "-C", "$root", "-cf", "-", "--sort=name", "--mtime=2026-01-01", "Sources", "docs", "policies"]
    schedule: "0 3 * * *"
    objectives: {rpo: 24h, rto: 1h}
YAML
export DRCTL_POLICY=$demo/policy.yaml
"$drctl" policy validate

say "3. backup"
"$drctl" backup --target drctl-source

say "4. list (read from the repository itself)"
"$drctl" list

say "5. verify: every stored byte read, digests and authentication checked"
"$drctl" verify --target drctl-source

say "6. restore the newest backup and compare with the source"
rm -f "$demo/restored.tar"
"$drctl" restore --target drctl-source --to "$demo/restored.tar"
tar -C "$root" -cf - --sort=name --mtime=2026-01-01 Sources docs policies | cmp - "$demo/restored.tar"
echo "restored archive is byte-identical to a fresh tar of the source tree"

say "done: repository, keys and policy are in $demo"
