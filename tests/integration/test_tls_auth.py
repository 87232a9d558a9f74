"""TLS and AUTH on every path, against servers that insist on them as providers do (issue 17).

The hosting-like servers (tests/conftest.py `hosting`) refuse IMAP LOGIN before TLS, refuse SMTP mail without
AUTH and offer AUTH only after STARTTLS, so an adapter that skipped a step fails here instead of passing by luck.
"""

from __future__ import annotations

import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailbot.adapters.imap import ImapMailbox
from mailbot.adapters.smtp import SendFailedError, SmtpConnection
from mailbot.app import App
from mailbot.config import Imap, Smtp, load_config
from mailbot.domain.context import AvailableBudget
from mailbot.errors import AuthenticationError, PermanentError
from mailbot.services import campaign, outbox, queries, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import SERVER_DEPENDENCIAS, hosting_changes, server_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

PLANEACION = "planeacion@municipio.test"
HACIENDA = SERVER_DEPENDENCIAS["HAC"]


def _imap(servers: MailServers, **changes: Any) -> Imap:
    fields = {**hosting_changes(servers)["imap"], "user": PLANEACION, "password": servers.password, "timeout": 10}
    return Imap(**{**fields, **changes})


def _smtp(servers: MailServers, security: str = "starttls", **changes: Any) -> Smtp:
    fields = {**hosting_changes(servers, smtp=security)["smtp"], "from_address": PLANEACION, "timeout": 10}
    return Smtp(**{**fields, **changes})


def _mail(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = PLANEACION
    message["To"] = HACIENDA
    message["Subject"] = subject
    message.set_content("Prueba de envío autenticado.")
    return message.as_bytes()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_imap_over_tls_logs_in_where_plaintext_login_is_refused(hosting: MailServers, security: str) -> None:
    port = hosting.imaps_port if security == "ssl" else hosting.imap_port
    with ImapMailbox(_imap(hosting, security=security, port=port)) as box:
        assert box.select("INBOX").uidvalidity > 0
        assert box.namespace() == ("INBOX.", ".")
        # Configuration names use "/" and no prefix; names already under the prefix, and INBOX, stay as they are.
        assert [box.server_name(n) for n in ("mailbot/procesados", "INBOX/mailbot/procesados", "INBOX")] == [
            "INBOX.mailbot.procesados",
            "INBOX.mailbot.procesados",
            "INBOX",
        ]


def test_imap_without_tls_is_refused_with_a_hint_at_the_setting(hosting: MailServers) -> None:
    box = ImapMailbox(_imap(hosting, security="none", port=hosting.imap_port))
    with pytest.raises(PermanentError, match=r"LOGINDISABLED.*imap\.security"):
        box.connect()


@pytest.mark.parametrize(("security", "mechanism"), [("starttls", "PLAIN"), ("ssl", "LOGIN")])
def test_smtp_submission_authenticates_over_tls_and_sends(hosting: MailServers, security: str, mechanism: str) -> None:
    with SmtpConnection(_smtp(hosting, security)) as connection:
        assert connection.features["auth"].split() == (["PLAIN", "LOGIN"] if mechanism == "PLAIN" else ["LOGIN"])
        assert connection.send(PLANEACION, [HACIENDA], _mail(f"Por {security}")).refused == {}
    (delivered,) = hosting.wait_for(HACIENDA)
    assert parse(delivered)["Subject"] == f"Por {security}"
    log = hosting.log_text()
    assert f"sasl_method={mechanism}, sasl_username={PLANEACION}" in log


def test_smtp_refuses_mail_from_a_client_that_skipped_auth(hosting: MailServers) -> None:
    with (
        SmtpConnection(_smtp(hosting, user=None, password=None)) as connection,
        pytest.raises(SendFailedError) as refused,
    ):
        connection.send(PLANEACION, [HACIENDA], _mail("Sin AUTH"))
    assert refused.value.permanent


def test_smtp_auth_before_starttls_is_a_setting_to_fix(hosting: MailServers) -> None:
    with pytest.raises(PermanentError, match=r"does not offer AUTH.*smtp\.security"):
        SmtpConnection(_smtp(hosting, security="none", ca_file=None)).open()


def test_smtp_wrong_password_is_an_authentication_error(hosting: MailServers) -> None:
    with pytest.raises(AuthenticationError, match="SMTP login refused") as refused:
        SmtpConnection(_smtp(hosting, "ssl", password="no-es-la-clave")).open()
    assert refused.value.service == "smtp"


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_smtp_verifies_the_certificate_by_default(hosting: MailServers, security: str) -> None:
    with pytest.raises(PermanentError, match=r"certificate could not be verified.*smtp\.ca_file"):
        SmtpConnection(_smtp(hosting, security, ca_file=None)).open()


@pytest.mark.storage
def test_whole_cycle_over_imaps_and_authenticated_submission(tmp_path: Path, hosting: MailServers) -> None:
    """Campaign → reply → answer with IMAPS and submission + AUTH, on a cPanel-like `INBOX.` namespace."""
    app = App(load_config(server_config(tmp_path, hosting, hosting_changes(hosting)), environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, 2027, only=["HAC"])
    assert len(outbox.flush(app.sessions, app.senders, app.clock.now).sent) == 1
    (mailing_raw,) = hosting.wait_for(HACIENDA)
    mailing = parse(mailing_raw)
    dep = app.config.dependencia("HAC")
    budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
    workbook = fill_plan(workbook_of(mailing), valid_metas(4, budget, dependencia="HAC"))
    hosting.send(reply(mailing, sender=HACIENDA, attachments=[("Plan HAC.xlsx", workbook)]), HACIENDA, [PLANEACION])
    hosting.wait_for(PLANEACION)

    watcher = Watcher(app, threading.Event())
    try:
        assert dict(watcher.once().outcomes) == {"accepted": 1}
    finally:
        watcher.close()

    _, acceptance = (parse(raw) for raw in hosting.wait_for(HACIENDA, count=2))
    assert "PA-2027-HAC-0001" in acceptance.get_body(("plain",)).get_content()
    assert hosting.wait_for(PLANEACION, folder="INBOX.mailbot.procesados")  # the namespace's own spelling
    (row,) = queries.received_rows(app, limit=10)
    assert row["outcome"] == "accepted"
