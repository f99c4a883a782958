#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine: a virtual environment in .venv with the
# project and its test extra, Debian's Chromium for the HTML report test (when we can install it),
# then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the report page test..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the report page test will say so"
fi

exec .venv/bin/python -m pytest -q "$@"
