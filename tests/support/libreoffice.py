"""LibreOffice headless, to prove that a workbook survives another spreadsheet program."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (Debian: libreoffice-calc; .ci/install-libreoffice.sh)"
)


def convert(data: bytes, suffix: str, target: str, work: Path) -> bytes:
    """Open `data` in LibreOffice and save it as `target` (e.g. 'xlsx:Calc MS Excel 2007 XML', 'pdf')."""
    assert SOFFICE is not None
    source = work / f"input{suffix}"
    source.write_bytes(data)
    outdir = work / "out"
    outdir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        completed = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    produced = sorted(outdir.iterdir())
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert produced, completed.stderr + completed.stdout
    return produced[0].read_bytes()


def roundtrip_xlsx(data: bytes, work: Path) -> bytes:
    """Open an .xlsx in LibreOffice Calc and save it again as .xlsx, as a secretario using Calc would."""
    return convert(data, ".xlsx", "xlsx:Calc MS Excel 2007 XML", work)
