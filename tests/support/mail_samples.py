"""The mail templates and their sample data, for the template tests.

The sample contexts themselves are built in one place, `mailbot/services/mail_samples.py` (also used by
`mailbot config check`), with the daemon's own context functions; a new template adds its data there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mailbot.adapters.mail_templates import mail_name
from mailbot.config import MailbotConfig, load_config
from mailbot.domain.workbook_format import Ronda
from mailbot.services import mail_samples
from tests.support.configs import EXAMPLE, ROOT

TEMPLATES = ROOT / "templates"
#: planeación's own digest does not greet anybody nor show planeación its own contact
NOT_TO_A_SECRETARIO = frozenset({"resumen"})


def template_files() -> list[Path]:
    """Every template shipped in templates/, found from the folder (a new file is covered without a new test)."""
    return sorted(TEMPLATES.glob("*.j2"))


def example_config() -> MailbotConfig:
    return load_config(EXAMPLE, environ={"MAILBOT_SECRET": "test-secret-0123456789abcdef"})


def contexts(config: MailbotConfig, filename: str, ronda: Ronda) -> list[dict[str, Any]]:
    """The sample contexts of one template file in one round (none when that mail is not sent in that round)."""
    found = mail_samples.for_round(config, mail_name(filename), ronda)
    assert found is not None, f"no sample data for {filename}: add it to SAMPLES in mailbot/services/mail_samples.py"
    return found
