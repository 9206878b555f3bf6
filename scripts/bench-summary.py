#!/usr/bin/env python3
"""Summary of a benchmark's `LABEL wall_seconds max_rss_kib` lines (the scripts' measure()):
every label's median, best and peak RSS, then each ratio asked for.

  bench-summary.py RESULTS 'A/B;what;target' ... [--rss 'LABEL;what;target' ...]
"""
import statistics
import sys

args = sys.argv[2:]
rows = {}
for line in open(sys.argv[1]):
    label, wall, rss = line.split()
    rows.setdefault(label, []).append((float(wall), int(rss)))
med = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
best = {k: min(w for w, _ in v) for k, v in rows.items()}
rss = {k: max(r for _, r in v) for k, v in rows.items()}
width = max(len(k) for k in rows)
print(f"{min(len(v) for v in rows.values())} runs each; wall seconds (median, best), peak RSS")
for k in rows:
    print(f"  {k:{width}s} median {med[k]:7.2f} s  best {best[k]:7.2f} s  {rss[k] / 1024:7.1f} MiB")
split = args.index("--rss") if "--rss" in args else len(args)
ratios, rss_asks = args[:split], args[split + 1:]
what_width = max([len(r.split(";")[1]) for r in ratios] + [0])
for ask in ratios:
    pair, what, target = ask.split(";")
    a, b = pair.split("/")
    print(f"{what:{what_width}s}: median {med[a] / med[b]:.3f}, best {best[a] / best[b]:.3f}  (target <= {target})")
for ask in rss_asks:
    label, what, target = ask.split(";")
    print(f"peak RSS, {what}: {rss[label] / 1024:.1f} MiB (target <= {target})")
