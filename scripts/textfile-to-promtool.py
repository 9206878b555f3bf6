#!/usr/bin/env python3
"""Turns what real drctl runs wrote into promtool's rule tests (AlertRuleTests runs it).

    scripts/textfile-to-promtool.py TEMPLATE SCENARIOS OUT [--dashboard drctl.json]

TEMPLATE is deploy/prometheus/alerts.test.yaml: promtool's test file, except that a test names a
scenario (`textfiles: NAME`) instead of typing drctl's series. SCENARIOS/NAME/<seconds>/ holds
the textfile directory (*.prom) as a run left it, to be shown from test time <seconds> on, and
`taken`, the Unix time it was copied. A series holds its value until the next step's files
(a textfile stays until the next run replaces it); one missing from a step is missing from then
on. Values of `*_timestamp_seconds` move with their step: v - taken + <seconds>, to the minute
(the tests' steps and evaluation times are whole minutes; a run's own seconds, between writing a
timestamp and the copy of its file, are not the rules' concern, and a slow run, under
ThreadSanitizer or load, must not make "1h 6m 0s old" read "1h 6m 1s").

In exp_annotations, `@{SERIES | humanizeDuration}` is that series' value in the scenario's last
step, formatted like Prometheus's humanizeDuration: for measured durations that no test can fix.

Fails (exit 1) when a rule or dashboard panel uses a drctl metric that no scenario's run wrote,
or a test types a drctl series by hand (only Prometheus's own series, such as `up`, may be).
OUT is the test file to give `promtool test rules`.
"""
import argparse, json, math, os, re, sys
import yaml

NAME = re.compile(r"drctl_[a-z0-9_]+")
PLACEHOLDER = re.compile(r"@\{(.+?) \| humanizeDuration\}")


def duration(text):
    """Seconds of a promtool/Prometheus duration such as 90m, 1h30m, 36d."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        sys.exit(f"not a duration: {text!r}")
    return sum(int(n) * units[u] for n, u in parts)


def humanize_duration(v):
    """Prometheus's humanizeDuration template function."""
    if math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    if v == 0:
        return "0s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        seconds = int(v) % 60
        minutes, hours, days = int(v) // 60 % 60, int(v) // 3600 % 24, int(v) // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{v:.4g}s"
    prefix = ""
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"]:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{v:.4g}{prefix}s"


def read_textfile(path):
    """{series: value} of one *.prom file, series as written."""
    samples = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples


def read_scenario(path):
    """[(test seconds, {series: value})] in time order. Timestamps move with the step that wrote
    their file: a file unchanged since the previous step keeps that step's values."""
    steps, previous = [], {}
    for entry in sorted(os.listdir(path), key=int):
        step = os.path.join(path, entry)
        at, taken = int(entry), float(open(os.path.join(step, "taken")).read())
        files, samples = {}, {}
        for name in sorted(n for n in os.listdir(step) if n.endswith(".prom")):
            text = open(os.path.join(step, name), encoding="utf-8").read()
            if name in previous and previous[name][0] == text:
                files[name] = previous[name]
            else:
                values = read_textfile(os.path.join(step, name))
                for series, value in values.items():
                    if series.split("{")[0].endswith("_timestamp_seconds"):
                        values[series] = float(round((value - taken) / 60) * 60 + at)
                files[name] = (text, values)
            for series, value in files[name][1].items():
                if series in samples:
                    sys.exit(f"{step}: {series} is written by two textfiles (node_exporter refuses that)")
                samples[series] = value
        previous = files
        steps.append((at, samples))
    if not steps:
        sys.exit(f"{path}: no steps")
    return steps


def input_series(steps, interval, end):
    """promtool input_series from a scenario's steps, one value per interval up to `end`."""
    count = int(end // interval) + 2
    names = sorted({series for _, samples in steps for series in samples})
    result = []
    for series in names:
        values = []
        for i in range(count):
            current = [samples for at, samples in steps if at <= i * interval]
            value = current[-1].get(series) if current else None
            values.append("_" if value is None else repr(value))
        result.append({"series": series, "values": " ".join(values)})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("template")
    parser.add_argument("scenarios")
    parser.add_argument("out")
    parser.add_argument("--dashboard", help="a Grafana dashboard whose panels must use written metrics too")
    args = parser.parse_args()

    template = yaml.safe_load(open(args.template))
    base = os.path.dirname(os.path.abspath(args.template))
    rule_files = [os.path.join(base, f) for f in template["rule_files"]]
    scenarios = {name: read_scenario(os.path.join(args.scenarios, name)) for name in sorted(os.listdir(args.scenarios))}

    written = {series.split("{")[0] for steps in scenarios.values() for _, samples in steps for series in samples}
    used = {}
    for path in rule_files:
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                for name in NAME.findall(rule["expr"]):
                    used.setdefault(name, f"{os.path.basename(path)}: {rule.get('alert') or rule.get('record')}")
    if args.dashboard:
        for panel in json.load(open(args.dashboard))["panels"]:
            for target in panel.get("targets", []):
                for name in NAME.findall(target["expr"]):
                    used.setdefault(name, f"{os.path.basename(args.dashboard)}: panel '{panel['title']}'")
    unwritten = sorted(f"{name} ({where})" for name, where in used.items() if name not in written)
    if unwritten:
        sys.exit("metrics that no drctl run wrote: " + ", ".join(unwritten))

    for number, test in enumerate(template["tests"], 1):
        typed = [s["series"] for s in test.get("input_series", []) if NAME.match(s["series"])]
        if typed:
            sys.exit(f"test {number} types drctl series by hand ({', '.join(typed)}): name a scenario in 'textfiles'")
        scenario = test.pop("textfiles", None)
        if scenario is None:
            continue
        if scenario not in scenarios:
            sys.exit(f"test {number}: no scenario '{scenario}' in {args.scenarios}")
        steps = scenarios[scenario]
        end = max(duration(check["eval_time"]) for check in test.get("alert_rule_test", []))
        test["input_series"] = test.get("input_series", []) + input_series(steps, duration(test["interval"]), end)
        last = steps[-1][1]
        for check in test.get("alert_rule_test", []):
            for alert in check.get("exp_alerts") or []:
                for key, text in (alert.get("exp_annotations") or {}).items():
                    def value(match):
                        if match.group(1) not in last:
                            sys.exit(f"test {number}: {match.group(1)} is not in scenario '{scenario}'")
                        return humanize_duration(last[match.group(1)])
                    alert["exp_annotations"][key] = PLACEHOLDER.sub(value, text)
    template["rule_files"] = rule_files
    with open(args.out, "w") as f:
        yaml.safe_dump(template, f, sort_keys=False, width=200)


if __name__ == "__main__":
    main()
