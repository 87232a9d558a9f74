"""The decide step: the pure verdict (`domain.reply`), with what it needs read in between.

screen → read the candidate workbooks → place → read the matched mailing's baseline (a seguimiento) and build its
validation context → judge → mark the findings on a copy of the workbook. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from mailbot.adapters.workbook.annotate import annotated_copy
from mailbot.adapters.workbook.reader import read_workbook
from mailbot.config import MailbotConfig
from mailbot.domain import reply
from mailbot.domain.findings import has_errors
from mailbot.domain.inbound import ParsedMessage
from mailbot.domain.matching import Directory, MailingRef
from mailbot.domain.seguimiento import Baseline
from mailbot.domain.workbook_format import Ronda
from mailbot.services import seguimiento
from mailbot.services.inbox.common import Inbox
from mailbot.services.validation import build_context


def policy_of(config: MailbotConfig) -> reply.Policy:
    return reply.Policy(
        own_domains=frozenset(config.municipality.domains),
        own_message_id_domain=config.smtp.effective_message_id_domain,
        own_addresses=frozenset({config.smtp.from_address}),
        trusted_authserv_ids=tuple(config.sender_policy.trusted_authserv_ids),
        allow=config.sender_policy.allow,
        answer_outsiders=config.sender_policy.answer_outsiders,
        secret=config.signing.secret.get_secret_value(),
    )


def decide(inbox: Inbox, session: Session, parsed: ParsedMessage, directory: Directory) -> reply.Verdict:
    """The verdict on one message; `session` is the claim's (the baseline is read in it)."""
    config, clock = inbox.config, inbox.app.clock
    policy = policy_of(config)
    screened = reply.screen(parsed, directory, policy, clock.now().astimezone(clock.tz).date())
    if screened is not None:
        return screened
    placed = reply.place(parsed, read_workbooks(inbox, parsed), directory, policy)
    if isinstance(placed, reply.Verdict):
        return placed
    ref = placed.match.mailing
    assert ref is not None
    context = build_context(
        config,
        ref.dependencia,
        vigencia=ref.vigencia,
        ronda=Ronda(ref.ronda),
        expected_token=placed.expected_token,
        baseline=baseline(inbox, session, ref) if placed.workbook is not None else None,
    )
    verdict = reply.judge(placed, context)
    if verdict.workbook is not None and has_errors(verdict.findings):
        verdict = replace(verdict, annotated=annotated_copy(placed.chosen.data, verdict.findings))
    return verdict


def read_workbooks(inbox: Inbox, parsed: ParsedMessage) -> dict[str, reply.Read]:
    """Each candidate attachment read (one dropped for its size is a finding already)."""
    return {
        part.sha256: read_workbook(part.data, inbox.limits) if part.data else reply.too_large(part)
        for part in reply.workbooks_to_read(parsed)
    }


def baseline(inbox: Inbox, session: Session, ref: MailingRef) -> Baseline | None:
    """A seguimiento is checked against the plan accepted before it, read in the claiming transaction (a second
    session would wait for the claim's own lock on SQLite)."""
    ronda = Ronda(ref.ronda)
    if ronda.quarter is None:
        return None
    found = seguimiento.baseline(inbox.app, session, ref.vigencia, ref.dependencia, ronda)
    return found[0] if found else None
