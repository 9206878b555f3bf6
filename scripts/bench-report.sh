#!/usr/bin/env bash
# Benchmark of `drctl report` (issue #5: < 1 s for 12 months of daily drills).
# Generates a repository of two regions holding, for each of two targets, a year of daily
# drill records (2025-12-01 ... 2026-11-30: 365 each), daily backup manifests (365 each) and a
# failed backup a week, written in the documented format (docs/FORMAT.md "Records",
# "Backup manifest"); then times `drctl report --month 2026-11` (release build) in each format.
#
#   scripts/bench-report.sh            # BENCH_DIR=bench-out, RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}/report
runs=${RUNS:-5}
rm -rf "$bench"; mkdir -p "$bench"

drctl=$(scripts/build-release.sh)

"$drctl" keygen --out "$bench/backup.key" >/dev/null
cat > "$bench/policy.yaml" <<YAML
version: 1
repository:
  regions:
    - name: local
      url: $bench/repo-a
    - name: backup
      url: $bench/repo-b
  encryption:
    key_file: $bench/backup.key
targets:
  - name: app-db
    kind: command
    command: ["true"]
    objectives: {rto: 1m, rpo: 2h}
  - name: cache
    kind: command
    command: ["true"]
    objectives: {rto: 30s, rpo: 1d}
YAML

python3 - "$bench/repo-a" <<'PY'
import datetime, json, os, random, sys
root = sys.argv[1]
random.seed(5)
def stamp(t): return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
def ident(t): return t.strftime("%Y%m%dT%H%M%S.") + "%03dZ-" % (t.microsecond // 1000) + "%06x" % random.randrange(1 << 24)
def put(key, value):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True); f.write("\n")
tool = {"name": "drctl", "version": "0.1.0"}
start = datetime.datetime(2025, 12, 1, tzinfo=datetime.timezone.utc)
for target, rto_objective, rpo_objective in [("app-db", 60, 7200), ("cache", 30, 86400)]:
    for day in range(365):
        backup_time = start + datetime.timedelta(days=day, hours=3)
        backup_id = ident(backup_time)
        stored = random.randrange(50 << 20, 60 << 20)
        put(f"manifests/{target}/{backup_id}.json", {
            "backup_id": backup_id, "compression": {"algorithm": "zstd", "level": 3},
            "consistent_point": {"precision": "at-or-after", "time": stamp(backup_time)},
            "encryption": {"chunk_size": 1048576, "stream": "drctl-sealed-stream-v1", "data_key": {
                "ciphertext": "eqRBXHeMmM0s4Ii7nKSM/S3QG+LCqrfjcVzQ+VPGUNKRr90GM6jzTiyvHv1jHRZh",
                "key_id": "9f86d081884c7d65", "nonce": "eDd7UldXtJRCf4kB", "scheme": "aes-256-gcm-hkdf-sha256"}},
            "finished_at": stamp(backup_time + datetime.timedelta(seconds=40)), "format": "drctl-backup-manifest",
            "kind": "command", "objects": [{"key": f"data/{target}/{backup_id}/stdout", "name": "stdout",
                "raw_size": stored * 3, "sha256": "0" * 64, "stored_size": stored}],
            "raw_size": stored * 3, "regions": ["local", "backup"], "source": {"program": "true"},
            "started_at": stamp(backup_time), "status": "complete" if day % 30 else "degraded",
            "stored_size": stored, "target": target, "tool": tool, "version": 1})
        drill_time = start + datetime.timedelta(days=day, hours=4, minutes=30)
        rto = round(random.uniform(0.3, 1.2) * rto_objective, 3)
        rpo = round((drill_time - backup_time).total_seconds() + random.uniform(0, 5), 3)
        result = "failed" if day % 97 == 0 else ("objectives_missed" if rto > rto_objective else "passed")
        drill_id = ident(drill_time)
        put(f"records/{target}/drills/{drill_id}.json", {
            "backup_id": backup_id, "checks": [{"actual": "1200", "expected": "1200", "name": "keys db0", "passed": True}],
            "drill_id": drill_id, "finished_at": stamp(drill_time + datetime.timedelta(seconds=rto + 1)),
            "format": "drctl-drill-record", "kind": "command",
            "objectives": {"rpo_seconds": rpo_objective, "rto_seconds": rto_objective},
            "phases": [{"name": "fetch", "seconds": rto / 2}, {"name": "load", "seconds": rto / 2}],
            "reasons": [] if result == "passed" else [f"drill {result}"], "recovery_point": stamp(backup_time),
            "region": "local", "restored_bytes": stored * 3, "result": result,
            "rpo_seconds": rpo, **({} if result == "failed" else {"rto_seconds": rto}),
            "started_at": stamp(drill_time), "target": target, "throughput_bytes_per_second": stored * 3 / rto,
            "tool": tool, "version": 1})
        if day % 7 == 3:
            run_time = start + datetime.timedelta(days=day, hours=15)
            run_id = ident(run_time)
            put(f"records/{target}/failures/{run_id}.json", {
                "error": "program exited with status 1", "finished_at": stamp(run_time + datetime.timedelta(seconds=2)),
                "format": "drctl-failure-record", "kind": "command", "regions": ["local", "backup"], "run_id": run_id,
                "started_at": stamp(run_time), "target": target, "tool": tool, "version": 1})
PY
cp -a "$bench/repo-a" "$bench/repo-b"
echo "repository: $(find "$bench/repo-a" -name '*.json' | wc -l) files per region, 2 regions" >&2

# One untimed run first (it also fills the page cache), then RUNS timed runs per format.
"$drctl" report --policy "$bench/policy.yaml" --month 2026-11 --format json > "$bench/report.json"
for format in md html json; do
  times=()
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$drctl" report --policy "$bench/policy.yaml" --month 2026-11 --format "$format" --output "$bench/report.$format"
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000000 ))")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  echo "report --format $format: median ${median} ms over $runs runs (ms: $sorted)"
done
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('verdict:', r['verdict']); print('drills in the trend:', [sum(m['drills'] for m in t['trend']) for t in r['targets']])" "$bench/report.json"
