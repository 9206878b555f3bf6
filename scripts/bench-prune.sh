#!/usr/bin/env bash
# How long `drctl prune` and `drctl check` take on a directory repository holding many backups.
#   scripts/bench-prune.sh [N]      # N backups (default 2000), one an hour going back in time
#
# One real backup is made, then its manifest and object are cloned N-1 times under ids one hour
# apart (the clones are valid manifests; their data is the same sealed object, which prune and
# check never read). Then, timed: `check`, `prune --dry-run`, `prune` (keep_hourly 24,
# keep_daily 7, keep_weekly 4, keep_monthly 12), and `prune` again with nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2000}"
drctl=$(scripts/build-release.sh)
work="$(mktemp -d /tmp/drctl-bench-prune.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$drctl" keygen --out key >/dev/null
cat > policy.yaml <<EOF
version: 1
repository:
  regions:
    - name: local
      url: $work/repo
  encryption:
    key_file: key
targets:
  - name: t
    kind: command
    command: ["head", "-c", "100000", "/dev/urandom"]
    schedule: "0 * * * *"
    retention: {keep_hourly: 24, keep_daily: 7, keep_weekly: 4, keep_monthly: 12}
EOF
"$drctl" backup --policy policy.yaml >/dev/null 2>&1
manifest="$(ls repo/manifests/t/*.json)"
original="$(basename "$manifest" .json)"
now="$(date -u +%s)"
python3 - "$manifest" "$original" "$count" "$now" <<'EOF'
import json, os, shutil, sys, datetime, random
path, original, count, now = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base = json.load(open(path))
repo = os.path.dirname(os.path.dirname(os.path.dirname(path)))
for i in range(1, count):
    t = datetime.datetime.fromtimestamp(now - i * 3600, datetime.timezone.utc)
    ident = t.strftime("%Y%m%dT%H%M%S.000Z-") + "%06x" % random.getrandbits(24)
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    m = dict(base, backup_id=ident, started_at=stamp, finished_at=stamp)
    m["consistent_point"] = dict(base["consistent_point"], time=stamp)
    m["objects"] = [dict(o, key=o["key"].replace(original, ident)) for o in base["objects"]]
    os.makedirs(f"{repo}/data/t/{ident}")
    shutil.copy(f"{repo}/data/t/{original}/stdout", f"{repo}/data/t/{ident}/stdout")
    with open(f"{repo}/manifests/t/{ident}.json", "w") as f:
        json.dump(m, f, indent=2, sort_keys=True)
        f.write("\n")
EOF
measure() {
    local label="$1"; shift
    local start end
    start="$(date +%s.%N)"
    "$@" >/tmp/drctl-bench-prune.out 2>&1 || true
    end="$(date +%s.%N)"
    printf '%-28s %6.2f s   %s\n' "$label" "$(echo "$end - $start" | bc)" "$(head -1 /tmp/drctl-bench-prune.out | cut -c1-90)"
}
echo "$count backups, one an hour; $(nproc) cores"
measure "check" "$drctl" check --policy policy.yaml
measure "prune --dry-run" "$drctl" prune --policy policy.yaml --dry-run
measure "prune" "$drctl" prune --policy policy.yaml
measure "prune (nothing to do)" "$drctl" prune --policy policy.yaml
echo "left: $(ls repo/manifests/t | wc -l) manifests, $(find repo/data/t -type f | wc -l) objects"
