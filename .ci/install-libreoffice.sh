#!/usr/bin/env bash
# Installs LibreOffice Calc (headless) from Debian's packages, for the tests that round-trip workbooks through
# another spreadsheet program. Idempotent; needs root.
set -euo pipefail
if command -v soffice >/dev/null 2>&1; then
    echo "install-libreoffice: soffice already installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends libreoffice-calc >/dev/null; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends libreoffice-calc >/dev/null
fi
echo "install-libreoffice: installed $(soffice --version | head -n 1)"
