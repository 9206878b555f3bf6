#!/usr/bin/env python3
"""Summary of a benchmark's results lines (scripts/bench-lib.sh's measure():
`LABEL wall_seconds max_rss_kib machine_cpu_seconds`): every label's median and best wall time,
peak RSS and median machine CPU, then each ratio asked for.

  bench-summary.py RESULTS 'A/B;what;target' ... [--floor 'X+Y/B;what;target' ...]
                           [--serial 'A/B;what;target' ...] [--tail 'A/B;TAIL;what;target' ...]
                           [--rss 'LABEL;what;target' ...]

Next to each ratio A/B comes its CPU floor: A's machine CPU over the core count, over B's wall
time, the ratio A would reach if no core were ever idle. A --floor ask is the same for work
measured in parts (X+Y: e.g. the source alone plus zstd alone on the same bytes): the ratio
no program doing that work could beat on this machine. A --serial ask divides the CPU seconds
of the watched server (bench-lib.sh's $watch_pid) during A by B's wall time: a server that works
on one core at a time bounds A's ratio from below by that much, however many cores there are.
A --tail ask takes TAIL for work that can only begin once all of A's other work is done (the
server's CompleteMultipartUpload after the last byte, scripts/s3-complete-timer.py): A's wall time
is at least its other CPU spread over every core, then TAIL's wall time,
((A's CPU - TAIL's CPU) / cores + TAIL's wall) / B's wall.
"""
import os
import statistics
import sys

args = sys.argv[2:]
rows = {}
for line in open(sys.argv[1]):
    fields = line.split()
    label, wall, rss = fields[:3]
    cpu = float(fields[3]) if len(fields) > 3 else None
    watched = float(fields[4]) if len(fields) > 4 else None
    rows.setdefault(label, []).append((float(wall), int(rss), cpu, watched))
cores = os.cpu_count()
med = {k: statistics.median(r[0] for r in v) for k, v in rows.items()}
best = {k: min(r[0] for r in v) for k, v in rows.items()}
rss = {k: max(r[1] for r in v) for k, v in rows.items()}
cpu = {k: statistics.median(r[2] for r in v) for k, v in rows.items() if all(r[2] is not None for r in v)}
watched = {k: statistics.median(r[3] for r in v) for k, v in rows.items() if all(r[3] is not None for r in v)}
width = max(len(k) for k in rows)
print(f"wall seconds (median, best) of n runs, peak RSS, median machine CPU seconds ({cores} cores)"
      + (", median CPU seconds of the watched server" if watched else ""))
for k in rows:
    used = f"  cpu {cpu[k]:7.2f} s" if k in cpu else ""
    used += f"  server {watched[k]:7.2f} s" if k in watched else ""
    print(f"  {k:{width}s} n={len(rows[k])} median {med[k]:7.2f} s  best {best[k]:7.2f} s  {rss[k] / 1024:7.1f} MiB{used}")


def section(name):
    if name not in args:
        return []
    start = args.index(name) + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return args[start:end]


def goal(target):
    return "(informational)" if target == "-" else f"(target <= {target})"


first_option = next((i for i, a in enumerate(args) if a.startswith("--")), len(args))
ratios, floors, serials, rss_asks = args[:first_option], section("--floor"), section("--serial"), section("--rss")
tails = section("--tail")
what_width = max([len(r.split(";")[1]) for r in ratios + floors + serials] + [len(t.split(";")[2]) for t in tails] + [0])
for ask in ratios:
    pair, what, target = ask.split(";")
    a, b = pair.split("/")
    floor = f", CPU floor {cpu[a] / cores / med[b]:.3f}" if a in cpu else ""
    print(f"{what:{what_width}s}: median {med[a] / med[b]:.3f}, best {best[a] / best[b]:.3f}{floor}  {goal(target)}")
for ask in floors:
    pair, what, target = ask.split(";")
    parts, b = pair.split("/")
    if not all(p in cpu for p in parts.split("+")):
        print(f"{what:{what_width}s}: no CPU figures")
        continue
    work = sum(cpu[p] for p in parts.split("+"))
    print(f"{what:{what_width}s}: CPU floor {work / cores / med[b]:.3f} ({work:.2f} CPU s on {cores} cores)  {goal(target)}")
for ask in serials:
    pair, what, target = ask.split(";")
    a, b = pair.split("/")
    if a not in watched:
        print(f"{what:{what_width}s}: no server CPU figures")
        continue
    print(f"{what:{what_width}s}: server floor {watched[a] / med[b]:.3f} ({watched[a]:.2f} server CPU s)  {goal(target)}")
for ask in tails:
    pair, tail, what, target = ask.split(";")
    a, b = pair.split("/")
    if a not in cpu or tail not in cpu:
        print(f"{what:{what_width}s}: no CPU figures")
        continue
    bound = (cpu[a] - cpu[tail]) / cores + med[tail]
    print(f"{what:{what_width}s}: tail floor {bound / med[b]:.3f} ({med[tail]:.2f} s of {tail} after "
          f"{cpu[a] - cpu[tail]:.2f} CPU s on {cores} cores)  {goal(target)}")
for ask in rss_asks:
    label, what, target = ask.split(";")
    print(f"peak RSS, {what}: {rss[label] / 1024:.1f} MiB (target <= {target})")
