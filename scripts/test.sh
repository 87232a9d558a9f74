#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, lints, then runs pytest twice.
# As root it installs Dovecot, Postfix, LibreOffice and the PostgreSQL server from Debian's packages (the server
# tests start their own instances on loopback, in temporary folders, and stop them by PID); as another user
# those tests skip with a reason. Extra arguments go to both pytest runs, e.g. `-m "not slow"`.
#
# Pass 1: every test, storage on SQLite.
# Pass 2: MAILBOT_TEST_DATABASE=postgresql, which keeps the tests marked `storage` (every test that opens a
#         database: tests/conftest.py fails a test that does so unmarked), each on a fresh database of a
#         PostgreSQL server private to the run; the multi-worker test (tests/integration/test_workers.py) runs here.
#         Pure unit tests do not touch storage and run once. MAILBOT_TEST_PASSES=sqlite (or postgresql) runs one.
# Each pass runs on MAILBOT_TEST_WORKERS pytest-xdist workers (default 4: the server tests mostly wait on Dovecot,
# Postfix, LibreOffice and subprocess daemons, so two per core keep both cores busy; 0 runs in one process):
# every worker starts its own mail servers and PostgreSQL on free loopback ports, so they share nothing.
# How the tests are dealt to the workers (tests/conftest.py puts the files with slow tests first): xdist's default
# hands each worker a run of ~1/16 of the tests up front and tops it up in runs, so one worker could be left
# alone with a queue of slow tests at the end of the pass while the others idled (measured: minutes). Pass 1
# deals whole files, one at a time as a worker frees up (`loadfile`, in conftest's order): a module-scoped fixture
# (the demo's run) is built once, not once per worker. Pass 2 keeps the default: its runs are a few tests long,
# and one file (tests/integration/test_daemon.py) holds a third of its time, too much for one worker.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    bash .ci/install-mailservers.sh
    bash .ci/install-libreoffice.sh
    bash .ci/install-postgres.sh
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache --no-logo

# Bytecode caches on (some CI images set PYTHONDONTWRITEBYTECODE): without them every xdist worker rewrites the
# asserts of every test module again (half of collection), and every `python -m mailbot` a test starts compiles
# mailbot from source again. The caches land in the ignored __pycache__ folders.
unset PYTHONDONTWRITEBYTECODE

passes=${MAILBOT_TEST_PASSES:-sqlite postgresql}
workers=(-n "${MAILBOT_TEST_WORKERS:-4}" --durations=15)  # the slowest tests, named in the log
by_file=(--dist loadfile --no-loadscope-reorder)
for pass in $passes; do
    case $pass in
        sqlite)
            echo "== tests on SQLite =="
            MAILBOT_TEST_DATABASE=sqlite .venv/bin/python -m pytest "${workers[@]}" "${by_file[@]}" "$@"
            ;;
        postgresql)
            echo "== tests that touch storage, on PostgreSQL =="
            MAILBOT_TEST_DATABASE=postgresql .venv/bin/python -m pytest "${workers[@]}" "$@"  # keeps the storage tests alone
            ;;
        *)
            echo "test.sh: unknown pass '$pass' in MAILBOT_TEST_PASSES (sqlite, postgresql)" >&2
            exit 2
            ;;
    esac
done
