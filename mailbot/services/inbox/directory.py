"""What matching needs to know, read once per pass: every mailing by token and Message-ID, the registered addresses."""

from __future__ import annotations

from sqlalchemy import select

from mailbot.adapters.db.models import Dependencia, Mailing, OutboxMail, Round
from mailbot.app import App
from mailbot.domain.matching import Directory, MailingRef


def load(app: App) -> Directory:
    config = app.config
    by_token: dict[str, MailingRef] = {}
    current: dict[str, MailingRef] = {}
    by_message_id: dict[str, MailingRef] = {}
    with app.sessions() as session:
        rows = session.execute(
            select(Mailing, Round, Dependencia)
            .join(Round)
            .join(Dependencia)
            .order_by(Round.vigencia, Round.id, Mailing.id)
        ).all()
        for mailing, round_, dependencia in rows:
            ref = MailingRef(mailing.id, dependencia.code, round_.vigencia, round_.kind, mailing.token)
            by_token[mailing.token] = ref
            by_message_id[mailing.message_id] = ref
            current[dependencia.code] = ref  # ordered: the latest round wins
        refs = {ref.mailing_id: ref for ref in by_token.values()}
        # `>= 1` (ids start at 1), not IS NOT NULL: a range reads ix_outbox_mailing_id, where SQLite's planner
        # scanned the outbox, walking every mail's bytes to reach its mailing_id (once a pass, growing with the outbox)
        for message_id, mailing_id in session.execute(
            select(OutboxMail.message_id, OutboxMail.mailing_id).where(OutboxMail.mailing_id >= 1)
        ):
            if mailing_id in refs:
                by_message_id[message_id] = refs[mailing_id]
    addresses: dict[str, set[str]] = {}
    for dep in config.dependencias:
        for address in dep.addresses:
            addresses.setdefault(address, set()).add(dep.code)
    return Directory(
        by_token=by_token,
        by_message_id=by_message_id,
        current=current,
        addresses={a: frozenset(c) for a, c in addresses.items()},
        own_domains=frozenset(config.municipality.domains),
        mailbox_address=config.smtp.from_address,
    )
