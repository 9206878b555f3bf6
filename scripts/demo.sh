#!/usr/bin/env bash
# The main job end to end on the embedded default (a local directory repository), against real
# servers this script starts itself on loopback ports: a PostgreSQL 15 cluster and a
# redis-server, seeded with data, plus a plain command target.
#   keygen → policy → backup (all targets) → list → verify → restore each target into a
#   fresh instance (or file) → compare with the original → drill every target → report.
# Everything lives in $DEMO_DIR (default: a new temp dir); the servers stop when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh demo
# The installed drctl (the Debian package's /usr/bin/drctl) if there is one, else this checkout's.
if drctl=$(command -v drctl); then
  echo "using the installed $drctl ($("$drctl" --version))" >&2
else
  echo "building drctl (release)..." >&2
  drctl=$(scripts/build-release.sh)
fi

demo=${DEMO_DIR:-$(mktemp -d /tmp/drctl-demo.XXXXXX)}
mkdir -p "$demo"
# mktemp makes it 0700; run as root, the PostgreSQL servers run as `postgres` and must reach
# their directories inside. Traverse only: the keys in it are 0600 files of their own.
chmod 0711 "$demo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/pg-cluster.sh stop "$demo/pg" >/dev/null 2>&1 || true
  scripts/pg-cluster.sh stop "$demo/pg-restored" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "1. servers to back up: PostgreSQL (pgbench tables) and Redis (10,000 keys), on loopback"
pg_port=$(scripts/pg-cluster.sh start "$demo/pg" | sed -n 's/^PGPORT=//p')
export DEMO_PG_PASSWORD="demo-pg-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
psql_demo() { psql -X -q -v ON_ERROR_STOP=1 -h "$demo/pg" -p "$pg_port" -U postgres "$@"; }
psql_demo -d postgres -c "ALTER ROLE postgres PASSWORD '$DEMO_PG_PASSWORD'" -c "CREATE DATABASE shop"
pgbench -q -i -s 2 -h "$demo/pg" -p "$pg_port" -U postgres shop >/dev/null 2>&1
psql_demo -d shop -c "CREATE TABLE notes AS SELECT i AS id, md5(i::text) AS body FROM generate_series(1, 5000) i"
echo "PostgreSQL on 127.0.0.1:$pg_port, database shop: $(psql_demo -At -d shop -c 'SELECT count(*) FROM pgbench_accounts') accounts"

redis_port=$(free_port)
export DEMO_REDIS_PASSWORD="demo-redis-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$demo/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$demo/redis" --repl-diskless-sync-delay 0 \
  --requirepass "$DEMO_REDIS_PASSWORD" --enable-debug-command yes --logfile "$demo/redis/log" --daemonize no &
pids+=($!)
export REDISCLI_AUTH=$DEMO_REDIS_PASSWORD
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
redis-cli -p "$redis_port" debug populate 10000 demo 64 >/dev/null
redis-cli -p "$redis_port" hset customer:1 name Ada plan pro >/dev/null
echo "Redis on 127.0.0.1:$redis_port: $(redis-cli -p "$redis_port" dbsize) keys"

say "2. a key pair (the secret key reads backups; a backup-only host needs just the public key)"
[ -f "$demo/backup.key" ] || "$drctl" keygen --out "$demo/backup.key" --public-out "$demo/backup.pub"

say "3. a policy: one local region, three targets; passwords referenced by environment variable"
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
  - name: shop-db
    kind: postgres
    mode: logical
    connection: {host: 127.0.0.1, port: $pg_port, user: postgres, password: {env: DEMO_PG_PASSWORD}}
    objectives: {rpo: 24h, rto: 1h}
  - name: cache
    kind: redis
    connection: {host: 127.0.0.1, port: $redis_port, password: {env: DEMO_REDIS_PASSWORD}}
    objectives: {rpo: 1h, rto: 5m}
  - name: drctl-source
    kind: command
    command: ["tar", "-C", "$root", "-cf", "-", "--sort=name", "--mtime=2026-01-01", "Sources", "docs", "policies"]
    objectives: {rpo: 7d, rto: 5m}
YAML
export DRCTL_POLICY=$demo/policy.yaml
"$drctl" policy validate

say "4. backup of every target"
"$drctl" backup

say "5. list (read from the repository itself)"
"$drctl" list

say "6. verify: every stored byte read, digests and authentication checked"
"$drctl" verify

say "7. restore shop-db into a fresh PostgreSQL and compare"
restored_port=$(scripts/pg-cluster.sh start "$demo/pg-restored" | sed -n 's/^PGPORT=//p')
psql -X -q -h "$demo/pg-restored" -p "$restored_port" -U postgres -d postgres \
  -c "ALTER ROLE postgres PASSWORD '$DEMO_PG_PASSWORD'"
PGPASSWORD=$DEMO_PG_PASSWORD "$drctl" restore --target shop-db --to "postgres://postgres@127.0.0.1:$restored_port"
count() { psql -X -At -h "$1" -p "$2" -U postgres -d shop -c \
  "SELECT (SELECT count(*) FROM pgbench_accounts) || ' accounts, ' || (SELECT count(*) FROM notes) || ' notes'"; }
original=$(count "$demo/pg" "$pg_port"); restored=$(count "$demo/pg-restored" "$restored_port")
echo "original: $original; restored: $restored"
[ "$original" = "$restored" ]

say "8. restore cache as an RDB file, check it, load it into a fresh redis-server"
rm -f "$demo/restored.rdb"
"$drctl" restore --target cache --to "$demo/restored.rdb"
redis-check-rdb "$demo/restored.rdb" | tail -1
fresh_port=$(free_port)
mkdir -p "$demo/redis-restored"
cp "$demo/restored.rdb" "$demo/redis-restored/dump.rdb"
redis-server --port "$fresh_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$demo/redis-restored" \
  --requirepass "$DEMO_REDIS_PASSWORD" --logfile "$demo/redis-restored/log" --daemonize no &
pids+=($!)
until redis-cli -p "$fresh_port" ping >/dev/null 2>&1; do sleep 0.1; done
echo "original: $(redis-cli -p "$redis_port" dbsize) keys; restored: $(redis-cli -p "$fresh_port" dbsize) keys"
[ "$(redis-cli -p "$redis_port" dbsize)" = "$(redis-cli -p "$fresh_port" dbsize)" ]
[ "$(redis-cli -p "$fresh_port" hget customer:1 name)" = "Ada" ]

say "9. restore drctl-source and compare with the source tree"
rm -f "$demo/restored.tar"
"$drctl" restore --target drctl-source --to "$demo/restored.tar"
tar -C "$root" -cf - --sort=name --mtime=2026-01-01 Sources docs policies | cmp - "$demo/restored.tar"
echo "restored archive is byte-identical to a fresh tar of the source tree"

say "10. restore drills: each backup into a scratch instance, verified, RTO and RPO measured"
"$drctl" drill --scratch-dir "$demo/drills"

say "11. the month's drill report (Markdown; --format html for the charts)"
"$drctl" report --month "$(date -u +%Y-%m)" | sed -n 1,20p

say "done: every target backed up, verified, restored and drilled; keys, policy and repository are in $demo"
