# Shared by the benchmark scripts (sourced; needs $work).
#
#   wal_policy FILE REPO KEY   physical_policy FILE with the one local region REPO and the key
#                              file KEY (for wal-push and wal-fetch, which connect to no server)
#
#   wal_segments COUNT         starts a cluster keeping its WAL at $work/pg (port in $port, its
#                              bin directory in $bin, `psql` a function) and copies COUNT full
#                              segments of an insert load to $work/segments (stop it on exit)
#
#   measure LABEL CMD...   runs CMD (output discarded) and appends to $work/results:
#                          LABEL wall_seconds max_rss_kib machine_cpu_seconds [watched_cpu_seconds]
#
#   physical_bench         (issue #25's benches) sets bin (the newest PostgreSQL's), DRCTL (the
#                          release build unless given), as_pg, pgdir=$work/pg; on exit stops the
#                          cluster, every server left in $work/restore-* or $work/run-*, and moto
#   await_promotion DIR PORT   waits (up to an hour) until the server on data directory DIR has
#                          promoted (needs bin and as_pg; export -f it for bash -c); fails, naming
#                          DIR.log, when no server runs there for 2 s (it did not start or died)
#   free_port              prints a TCP port free on 127.0.0.1 now (the kernel's choice: not one
#                          an earlier connection may still hold, as a fixed port may be)
#   physical_policy FILE REGION [KEY]   writes a policy: one region (a YAML flow mapping), the
#                          key file KEY (default $work/key) and the physical target `main` on the
#                          server at $pgdir, port $PGPORT (127.0.0.1:5432 where they are not set)
#
# machine_cpu_seconds is the CPU time the whole machine spent while CMD ran (every process,
# the servers it talks to included; from /proc/stat, steal excluded). Divided by the number of
# cores it is the shortest wall time that work could take with no core ever idle: the "CPU
# floor" that scripts/bench-summary.py prints next to each ratio.
# With $watch_pid set (a server the command talks to, e.g. moto), that process's own CPU
# seconds during CMD come last: a server that works on one core at a time (Python's GIL) cannot
# serve the command in less wall time than that.

busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime (comm has no spaces)
seconds() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'; }

measure() {
  local label=$1; shift
  sync
  local before after watched_before="" watched=""
  [ -n "${watch_pid:-}" ] && watched_before=$(process_ticks "$watch_pid")
  before=$(busy_ticks)
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  after=$(busy_ticks)
  [ -n "$watched_before" ] && watched=" $(seconds $(( $(process_ticks "$watch_pid") - watched_before )))"
  echo "$label $(tail -1 "$work/time") $(seconds $((after - before)))$watched" >> "$work/results"
}

wal_policy() { physical_policy "$1" "{name: local, url: $2}" "$3"; }

physical_policy() {
  cat >"$1" <<YAML
version: 1
repository:
  regions: [$2]
  compression: {level: 3}
  encryption: {key_file: ${3:-$work/key}}
targets:
  - name: main
    kind: postgres
    mode: physical
    connection: {host: ${pgdir:-127.0.0.1}, port: ${PGPORT:-5432}, user: postgres, checkpoint: fast, wal_wait_timeout: 10m}
YAML
}

physical_bench() {
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [ -z "${DRCTL:-}" ]; then DRCTL=$(scripts/build-release.sh); fi
  DRCTL=$(readlink -f "$DRCTL")
  as_pg=(runuser -u postgres --)
  pgdir=$work/pg
  trap physical_cleanup EXIT
}
physical_cleanup() {
  for d in "$work"/restore-* "$work"/run-*; do
    [ -f "$d/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
  done
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null || true
}

await_promotion() {
  local absent=0
  for _ in $(seq 36000); do
    [ "$("${as_pg[@]}" "$bin/psql" -X -At -h "$1" -p "$2" -U postgres -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && return 0
    if [ -f "$1/postmaster.pid" ]; then absent=0; else absent=$((absent + 1)); fi
    if [ "$absent" -ge 20 ]; then
      echo "no server runs on $1 (it did not start, or it stopped): see $1.log" >&2
      return 1
    fi
    sleep 0.1
  done
  return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wal_segments() {
  PG_EXTRA_CONF=$'wal_level = replica\nwal_keep_size = \'4GB\'\nmax_wal_size = \'4GB\'' scripts/pg-cluster.sh start "$work/pg" > "$work/pg.env"
  port=$(sed -n 's/^PGPORT=//p' "$work/pg.env")
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  psql() { "$bin/psql" -X -q -At -h "$work/pg" -p "$port" -U postgres "$@"; }
  first=$(psql -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  psql -c "CREATE TABLE load (id bigserial PRIMARY KEY, a text, b text, n int)"
  while :; do
    psql -c "INSERT INTO load (a, b, n) SELECT md5(g::text), repeat(md5((g * 7)::text), 3), g FROM generate_series(1, 200000) g"
    now=$(psql -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
    [ $(( 16#${now:16:8} + 256 * 16#${now:8:8} - 16#${first:16:8} - 256 * 16#${first:8:8} )) -gt "$1" ] && break
  done
  mkdir -p "$work/segments"
  ls "$work/pg/data/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | awk -v f="$first" '$0 > f' | head -n "$1" \
    | while read -r name; do cp "$work/pg/data/pg_wal/$name" "$work/segments/"; done
}
