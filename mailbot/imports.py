"""Keeping an optional library out of a third-party import that would load it for nothing.

Some libraries import whatever optional companion is installed, at their own import time: structlog imports rich
(for tracebacks mailbot renders without it) and openpyxl imports numpy (matplotlib installs it; openpyxl only adds
numpy's scalar types to the values it accepts, and mailbot never writes one). Each costs every process ~8–12 MB
and a fraction of a second at start, while the output is the same without it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def hidden(module: str) -> Iterator[None]:
    """`import module` fails inside the block (None in sys.modules is Python's "not importable"); a module already
    imported stays, and after the block it can be imported as usual (matplotlib still gets numpy)."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get(module, ...) is None:
            del sys.modules[module]
