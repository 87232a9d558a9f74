"""Generating one dependencia's workbook: the same path for `mailbot template` and for campaign mailings."""

from __future__ import annotations

import secrets

from mailbot.adapters.workbook.writer import spec_from_config, template_bytes
from mailbot.config import MailbotConfig
from mailbot.domain.rounds import resolve_day
from mailbot.domain.workbook_format import Ronda
from mailbot.services.pdm import configured_catalogue


def new_token() -> str:
    """A mailing token: short, lower case and URL/e-mail safe, so it survives a plus address."""
    return secrets.token_hex(8)


def make_template(
    config: MailbotConfig, dependencia: str, *, vigencia: int, ronda: Ronda = Ronda.FORMULACION, token: str
) -> bytes:
    if ronda is not Ronda.FORMULACION:
        raise NotImplementedError("seguimiento workbooks come with the seguimiento issue")
    spec = spec_from_config(
        config,
        dependencia,
        ronda=ronda,
        vigencia=vigencia,
        deadline=resolve_day(config.rounds.formulacion.deadline, vigencia),
        token=token,
        catalogue=configured_catalogue(config),
    )
    return template_bytes(spec)
