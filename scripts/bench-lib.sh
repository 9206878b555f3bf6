# Shared by the benchmark scripts (sourced; needs $work).
#
#   measure LABEL CMD...   runs CMD (output discarded) and appends to $work/results:
#                          LABEL wall_seconds max_rss_kib machine_cpu_seconds
#
# machine_cpu_seconds is the CPU time the whole machine spent while CMD ran (every process,
# the servers it talks to included; from /proc/stat, steal excluded). Divided by the number of
# cores it is the shortest wall time that work could take with no core ever idle: the "CPU
# floor" that scripts/bench-summary.py prints next to each ratio.

busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

measure() {
  local label=$1; shift
  sync
  local before after
  before=$(busy_ticks)
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  after=$(busy_ticks)
  echo "$label $(tail -1 "$work/time") $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}')" >> "$work/results"
}
