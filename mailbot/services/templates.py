"""Generating one dependencia's workbook: the same path for `mailbot template` and for campaign mailings."""

from __future__ import annotations

import secrets

from mailbot.adapters.workbook.writer import spec_from_config, template_bytes
from mailbot.config import MailbotConfig
from mailbot.domain.parsed import ParsedWorkbook
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import Ronda
from mailbot.services.pdm import configured_catalogue
from mailbot.services.round_dates import round_deadline


def new_token() -> str:
    """A mailing token: short, lower case and URL/e-mail safe, so it survives a plus address."""
    return secrets.token_hex(8)


def make_template(
    config: MailbotConfig,
    dependencia: str,
    *,
    vigencia: int,
    ronda: Ronda = Ronda.FORMULACION,
    token: str,
    baseline: Baseline | None = None,
    accepted: ParsedWorkbook | None = None,
) -> bytes:
    """A seguimiento workbook needs the baseline and the accepted plan (services.seguimiento.baseline)."""
    deadline = round_deadline(config, ronda, vigencia)
    spec = spec_from_config(
        config,
        dependencia,
        ronda=ronda,
        vigencia=vigencia,
        deadline=deadline,
        token=token,
        catalogue=configured_catalogue(config),
        baseline=baseline,
        accepted=accepted,
    )
    return template_bytes(spec)
