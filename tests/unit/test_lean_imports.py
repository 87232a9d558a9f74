"""What a light command and the daemon's modules import (issue 19, item 4): the optional libraries that a third-party
import would drag in for nothing stay out, and stay importable for the code that does need them."""

from __future__ import annotations

import json
import subprocess
import sys

# The modules `mailbot validate` and `mailbot run`/`poll` import; then matplotlib, which needs numpy for real.
PROBE = """
import json, sys
import mailbot.cli
from mailbot.services import daemon, validation
from mailbot.adapters import catalogue
before = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY})
import matplotlib.pyplot
print(json.dumps({"before": before, "numpy_after": "numpy" in sys.modules}))
"""
HEAVY = ("fpdf", "fontTools", "authlib", "requests", "prometheus_client", "rich", "numpy")


def test_the_daemon_and_validate_modules_leave_the_optional_libraries_out() -> None:
    code = PROBE.replace("{HEAVY}", repr(set(HEAVY)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["before"] == []
    assert found["numpy_after"]  # hidden only while openpyxl is imported: matplotlib still gets it
