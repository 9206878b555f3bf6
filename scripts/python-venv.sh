# Sourced (never run) by the scripts that use the PyPI test tools scripts/install-deps.sh puts
# in a virtual environment: exports DRCTL_VENV (default: .venv at the top of this checkout) and
# puts its bin/ first on PATH, so `python3`, `aws` and `moto_server` are the environment's
# whichever python3 the machine has first (Debian's own cannot import them).
DRCTL_VENV=${DRCTL_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv}
export DRCTL_VENV
export PATH="$DRCTL_VENV/bin:$PATH"
