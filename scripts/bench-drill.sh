#!/usr/bin/env bash
# Drill overhead beyond the restore itself (issue #5; target <= 3 s): the time a PostgreSQL
# drill spends outside fetch, decrypt+decompress and load — select, starting the scratch
# instance (a copy of the initdb template + pg_ctl), verification (row counts and checks) and
# teardown — and the same for a Redis drill. Prints every drill's phases, then the median
# overhead. The scratch root starts empty, so the first PostgreSQL drill also builds the
# template (initdb, about a second more); the later ones show the steady state.
#
#   scripts/bench-drill.sh                 # pgbench -s ${SCALE:-10} (~150 MB), RUNS=5
#   SCALE=70 scripts/bench-drill.sh        # ~1 GiB, the size the issue names
#   DRCTL=.build/debug/drctl scripts/bench-drill.sh   # skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench=${BENCH_DIR:-$root/bench-out}/drill
runs=${RUNS:-5}
scale=${SCALE:-10}
rm -rf "$bench"; mkdir -p "$bench"
chmod 0755 "$bench"
scripts/install-deps.sh >/dev/null
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ -z "${DRCTL:-}" ]; then
  DRCTL=$(scripts/build-release.sh)
fi

pgdir=$bench/pg
cleanup() {
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT
eval "$(scripts/pg-cluster.sh start "$pgdir" | grep '^PGPORT=')"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$bin/psql" -X -q -h "$pgdir" -p "$PGPORT" -U postgres -c "ALTER ROLE postgres PASSWORD 'bench'" -c "CREATE DATABASE bench"
"${as_pg[@]}" "$bin/pgbench" -q -i -s "$scale" -h "$pgdir" -p "$PGPORT" -U postgres bench >/dev/null 2>&1

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$bench/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --dir "$bench/redis" --daemonize no --enable-debug-command yes \
  >"$bench/redis/log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" DEBUG POPULATE 200000 key 100 >/dev/null

"$DRCTL" keygen --out "$bench/key" >/dev/null
cat >"$bench/policy.yaml" <<YAML
version: 1
repository:
  regions: [{name: local, url: $bench/repo}]
  encryption: {key_file: $bench/key}
targets:
  - name: db
    kind: postgres
    connection: {host: 127.0.0.1, port: $PGPORT, user: postgres, password: {env: BENCH_PG_PASSWORD}, databases: [bench]}
    drill:
      checks:
        - {sql: "select count(*) from pgbench_accounts", expect: "$((scale * 100000))"}
  - name: cache
    kind: redis
    connection: {host: 127.0.0.1, port: $redis_port}
YAML
export BENCH_PG_PASSWORD=bench
"$DRCTL" backup --policy "$bench/policy.yaml" >/dev/null 2>&1

for target in db cache; do
  echo "== $target: $runs drills"
  for run in $(seq "$runs"); do
    "$DRCTL" drill --policy "$bench/policy.yaml" --target "$target" --scratch-dir "$bench/scratch" --json 2>/dev/null \
      > "$bench/$target-$run.json" || true
  done
  python3 - "$bench" "$target" "$runs" <<'PY'
import json, sys, statistics
bench, target, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
overheads = []
for run in range(1, runs + 1):
    record = json.load(open(f"{bench}/{target}-{run}.json"))[0]
    phases = {p["name"]: p["seconds"] for p in record["phases"]}
    overhead = sum(v for k, v in phases.items() if k not in ("fetch", "decrypt_decompress", "load"))
    overheads.append(overhead)
    print(f"  {record['result']:<18} RTO {record.get('rto_seconds', 0):7.2f} s  overhead {overhead:5.2f} s  "
          + "  ".join(f"{k} {v:.3f}" for k, v in phases.items()))
print(f"  median overhead {statistics.median(overheads):.2f} s (target <= 3 s)")
PY
done
