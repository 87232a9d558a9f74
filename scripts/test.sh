#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, lints, then runs pytest.
# As root it installs Dovecot and Postfix from Debian's packages (the server tests use them on loopback);
# as another user those tests skip with a reason. Extra arguments go to pytest, e.g. `-m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    bash .ci/install-mailservers.sh
    bash .ci/install-libreoffice.sh
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
