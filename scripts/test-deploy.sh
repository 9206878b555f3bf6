#!/usr/bin/env bash
# Checks the deployment files against real tools (run by scripts/test.sh after the Swift tests):
#   - deploy/prometheus: `promtool check rules` (the rules' unit tests need real drctl runs: they
#     are AlertRuleTests in the Swift suite, which also fails a rule or panel on a metric no run
#     writes);
#   - deploy/systemd: `systemd-analyze verify` of every unit in a scratch root holding the built
#     drctl (any warning fails);
#   - deploy/kubernetes: every manifest parses; CronJobs never overlap and have a start deadline;
#     the agent Deployment has probes on /healthz; prometheusrule.yaml is alerts.yaml;
#     the example policy validates;
#   - Dockerfile: its stages install scripts/install-deps.sh's `package` packages and run
#     scripts/install-package.sh (`host`, then the package), and neither those nor `build` or
#     `demo` holds a package only the tests use.
#   scripts/test-deploy.sh           # check
#   scripts/test-deploy.sh --write   # regenerate deploy/kubernetes/prometheusrule.yaml first
set -euo pipefail
cd "$(dirname "$0")/.."
drctl=${DRCTL:-.build/debug/drctl}
[ -x "$drctl" ] || { echo "test-deploy: $drctl not built (swift build)" >&2; exit 1; }
source scripts/python-venv.sh   # PyYAML

python3 - "${1:-}" <<'PY'
import sys, yaml
rules = yaml.safe_load(open("deploy/prometheus/alerts.yaml"))
path = "deploy/kubernetes/prometheusrule.yaml"
doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
       "metadata": {"name": "drctl", "labels": {"app.kubernetes.io/name": "drctl"}}, "spec": rules}
if sys.argv[1] == "--write":
    with open(path, "w") as f:
        f.write("# Generated from deploy/prometheus/alerts.yaml by scripts/test-deploy.sh --write; do not edit.\n")
        yaml.safe_dump(doc, f, sort_keys=False, width=120)
if yaml.safe_load(open(path)) != doc:
    sys.exit(f"{path} differs from deploy/prometheus/alerts.yaml: run scripts/test-deploy.sh --write")
PY

root_rules=$(mktemp --suffix=.yaml)
trap 'rm -f "$root_rules"' EXIT
echo "prometheus rules:" >&2
promtool check rules deploy/prometheus/alerts.yaml

echo "grafana dashboard:" >&2
# Every panel query is valid PromQL (checked by promtool as recording rules). That each uses
# only metrics drctl writes is checked by AlertRuleTests, on what real runs wrote.
python3 - "$root_rules" <<'PY'
import json, sys, yaml
dashboard = json.load(open("deploy/grafana/drctl.json"))
exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
ids = [p["id"] for p in dashboard["panels"]]
if len(ids) != len(set(ids)):
    sys.exit("deploy/grafana/drctl.json: duplicate panel ids")
with open(sys.argv[1], "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel{i}", "expr": e.replace("$target", ".*")} for i, e in enumerate(exprs)]}]}, f)
PY
promtool check rules "$root_rules" >/dev/null
echo "  $(python3 -c 'import json; print(len(json.load(open("deploy/grafana/drctl.json"))["panels"]))') panels checked" >&2

echo "systemd units:" >&2
root=$(mktemp -d)
trap 'rm -rf "$root" "$root_rules"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/lib/drctl" "$root/etc/systemd/system" "$root/lib/systemd"
cp -a /lib/systemd/system "$root/lib/systemd/"
cp "$drctl" "$root/usr/bin/drctl"
cp deploy/systemd/notify-failure "$root/usr/lib/drctl/"
cp deploy/systemd/*.service deploy/systemd/*.timer "$root/etc/systemd/system/"
out=$(systemd-analyze verify --root="$root" "$root"/etc/systemd/system/drctl* 2>&1) || { echo "$out" >&2; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify warned:" >&2; echo "$out" >&2; exit 1; }
echo "  $(ls deploy/systemd/*.service deploy/systemd/*.timer | wc -l) units verified" >&2

echo "kubernetes manifests:" >&2
python3 - <<'PY'
import os, sys, yaml
base = "deploy/kubernetes"
kustomization = yaml.safe_load(open(f"{base}/kustomization.yaml"))
problems = []
for resource in kustomization["resources"]:
    if not os.path.exists(f"{base}/{resource}"):
        problems.append(f"kustomization names missing {resource}")
for name in sorted(os.listdir(base)):
    if not name.endswith(".yaml") or name in ("kustomization.yaml", "policy.yaml"):
        continue
    for doc in yaml.safe_load_all(open(f"{base}/{name}")):
        kind = doc.get("kind")
        if kind == "CronJob":
            spec = doc["spec"]
            if spec.get("concurrencyPolicy") != "Forbid":
                problems.append(f"{name}: concurrencyPolicy must be Forbid")
            if not spec.get("startingDeadlineSeconds"):
                problems.append(f"{name}: startingDeadlineSeconds is missing")
            pod = spec["jobTemplate"]["spec"]["template"]["spec"]
            if pod.get("restartPolicy") not in ("Never", "OnFailure"):
                problems.append(f"{name}: a Job's restartPolicy must be Never or OnFailure")
        elif kind == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            if pod.get("restartPolicy", "Always") != "Always":
                problems.append(f"{name}: a Deployment's restartPolicy must be Always")
            container = pod["containers"][0]
            for probe in ("livenessProbe", "readinessProbe"):
                if container.get(probe, {}).get("httpGet", {}).get("path") != "/healthz":
                    problems.append(f"{name}: {probe} must GET /healthz")
        else:
            continue
        security = pod.get("securityContext", {})
        if not security.get("runAsNonRoot"):
            problems.append(f"{name}: runAsNonRoot must be true")
        for container in pod["containers"]:
            if not container.get("securityContext", {}).get("readOnlyRootFilesystem"):
                problems.append(f"{name}: readOnlyRootFilesystem must be true")
if problems:
    sys.exit("\n".join(problems))
print("  manifests checked", file=sys.stderr)
PY
scratch=$(mktemp -d)
"$drctl" keygen --out "$scratch/backup.key" --public-out "$scratch/backup.pub" >/dev/null
sed "s#/etc/drctl/keys/#$scratch/#" deploy/kubernetes/policy.yaml > "$scratch/policy.yaml"
"$drctl" policy validate "$scratch/policy.yaml" >&2
rm -rf "$scratch"

echo "package split:" >&2
grep -q "install-deps.sh package" Dockerfile || { echo "Dockerfile does not install the 'package' packages" >&2; exit 1; }
grep -q "install-package.sh --uid" Dockerfile || { echo "Dockerfile does not run scripts/install-package.sh" >&2; exit 1; }
grep -q "install-deps.sh\" host" scripts/install-package.sh || { echo "scripts/install-package.sh does not install the 'host' packages" >&2; exit 1; }
for purpose in build package host demo; do
  for test_only in chromium prometheus gdb strace poppler-utils python3-venv locales lintian man-db; do
    if scripts/install-deps.sh --list "$purpose" | grep -qx "$test_only"; then
      echo "install-deps.sh: '$purpose' holds $test_only, which only the tests use" >&2
      exit 1
    fi
  done
done
echo "  build, package, host and demo hold no test-only package; the Dockerfile installs package, and host with the package" >&2
echo "deploy files: OK" >&2
