"""`mailbot check`: what an operator must know before going live (and any time after), asked of the real servers.

Each check connects with the configured settings, exactly as the daemon will, and says in an operator's words what
holds and what to change. Nothing is sent or created unless asked: `create_folders` creates the outcome folders,
`send_test` mails one address, `plus_test` mails planeación's own plus address and waits for it in the watched
folder (then files it among the ignored mail). The checks that need a connection that failed are left out: the
failed login says what to fix first.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any, Protocol, cast

from sqlalchemy.engine import make_url

from mailbot.adapters.db import migrate
from mailbot.adapters.mail_builder import build_message, new_message_id
from mailbot.adapters.smtp import SendFailedError
from mailbot.app import App
from mailbot.config import EXAMPLE_SECRET_PREFIX, MailbotConfig
from mailbot.domain.outgoing import AutoSubmitted, OutgoingMail, plus_address
from mailbot.errors import MailbotError, StorageError
from mailbot.ports import Mailbox, Sender

#: Junk folders by name, for servers that do not mark theirs \Junk (RFC 6154); compared without case.
JUNK_NAMES = frozenset({"junk", "spam", "junk e-mail", "junk email", "correo no deseado", "bulk mail", "spam mail"})
_WAIT_STEP = 2.0  # seconds between looks for the plus-addressing test mail when the server has no IDLE


@dataclass(frozen=True)
class Check:
    """One line of the report; `name` is stable (scripts read `--json`), `detail` is for a person."""

    name: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        """The `--json` contract: {"ok": bool, "checks": [{"name", "ok", "detail"}]}."""
        return {"ok": self.ok, "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


@dataclass(frozen=True)
class CheckOptions:
    create_folders: bool = False
    send_test: str | None = None
    plus_test: bool = False
    wait: float = 60.0  # seconds the plus-addressing test waits for its mail


class _Probe(Mailbox, Protocol):
    """What the checks ask of the IMAP adapter beyond the daemon's port (adapters.imap.ImapMailbox has it all)."""

    @property
    def capabilities(self) -> frozenset[str]: ...

    def namespace(self) -> tuple[str, str]: ...

    def folder_exists(self, name: str) -> bool: ...

    def server_name(self, name: str) -> str: ...

    def folders(self, special_use: str | None = None) -> list[str]: ...


def run(app: App, options: CheckOptions) -> CheckReport:
    """Every check, IMAP first (the mailbox is what mailbot lives on), then SMTP, the secret, the database."""
    report = CheckReport()
    config = app.config
    box = cast(_Probe, app.mailboxes())
    sender = app.senders()
    imap_ok = smtp_ok = folder_ok = False
    try:
        imap_ok = _connect(report, "imap.login", box.connect, _imap_login_detail(config))
        if imap_ok:
            report.checks.append(_capabilities(box))
            report.checks.append(_namespace(box, config))
            folder_ok = _watched_folder(report, box, config.imap.folder)
            report.checks.append(_outcome_folders(box, config, options.create_folders))
            report.checks.append(_junk(box))
        smtp_ok = _connect(report, "smtp.login", sender.open, _smtp_login_detail(config, sender))
        if smtp_ok and options.send_test:
            report.checks.append(_send_test(app, sender, options.send_test))
        report.checks.append(_plus_addressing(app, box, sender, options, ready=imap_ok and smtp_ok and folder_ok))
    finally:
        if smtp_ok:
            sender.close()
        box.close()
    report.checks.append(signing_secret(config))
    report.checks.append(database(app))
    return report


# -- IMAP ------------------------------------------------------------------------------------------------------


def _connect(report: CheckReport, name: str, connect: Callable[[], None], detail: Callable[[], str]) -> bool:
    """Log in; the failure's own message is the detail (the adapters word it for an operator)."""
    try:
        connect()
    except MailbotError as exc:
        report.checks.append(Check(name, False, str(exc)))
        return False
    report.checks.append(Check(name, True, detail()))
    return True


def _imap_login_detail(config: MailbotConfig) -> Callable[[], str]:
    imap = config.imap
    return lambda: f"logged in as {imap.user} at {imap.host}:{imap.effective_port} ({imap.security})"


def _capabilities(box: _Probe) -> Check:
    """IDLE answers in seconds (else a poll every imap.poll_interval); MOVE or UIDPLUS file mail cleanly."""
    have = box.capabilities
    notes = []
    if "IDLE" not in have:
        notes.append("no IDLE: mailbot polls every imap.poll_interval seconds instead of answering in seconds")
    if "MOVE" not in have and "UIDPLUS" not in have:
        notes.append("neither MOVE nor UIDPLUS: a filed message stays in the folder, flagged deleted")
    elif "MOVE" not in have:
        notes.append("no MOVE: messages are filed by copy and delete (UIDPLUS)")
    listed = ", ".join(f"{cap} {'yes' if cap in have else 'no'}" for cap in ("IDLE", "MOVE", "UIDPLUS"))
    ok = "MOVE" in have or "UIDPLUS" in have
    return Check("imap.capabilities", ok, "; ".join([listed, *notes]))


def _namespace(box: _Probe, config: MailbotConfig) -> Check:
    prefix, delimiter = box.namespace()
    example = box.server_name(config.imap.outcome_folders.processed)
    shown = f'prefix "{prefix}"' if prefix else "no prefix"
    return Check("imap.namespace", True, f'{shown}, delimiter "{delimiter}": mailbot/procesados is {example}')


def _watched_folder(report: CheckReport, box: _Probe, folder: str) -> bool:
    try:
        state = box.state(folder)
    except MailbotError as exc:  # the adapter's message lists the folders that do exist
        report.checks.append(Check("imap.folder", False, str(exc)))
        return False
    report.checks.append(Check("imap.folder", True, f"'{folder}' holds {state.exists} message(s)"))
    return True


def _outcome_folders(box: _Probe, config: MailbotConfig, create: bool) -> Check:
    folders = config.imap.outcome_folders
    names = list(dict.fromkeys((folders.processed, folders.review, folders.ignored, folders.errors)))
    present, created, missing = [], [], []
    for name in names:
        if box.folder_exists(name):
            present.append(box.server_name(name))
        elif create:
            try:
                created.append(box.ensure_folder(name))
            except MailbotError as exc:
                missing.append(f"{box.server_name(name)} ({exc})")
        else:
            missing.append(box.server_name(name))
    parts = []
    if present:
        parts.append(f"present: {', '.join(present)}")
    if created:
        parts.append(f"created: {', '.join(created)}")
    if missing:
        hint = "" if create else " (run `mailbot check --create-folders` to create them now)"
        parts.append(f"missing: {', '.join(missing)}{hint}")
    return Check("imap.outcome_folders", not missing, "; ".join(parts))


def _junk(box: _Probe) -> Check:
    """Informational: mail the provider files as spam never reaches the watched folder, so mailbot never sees it."""
    junk = next(iter(box.folders("\\Junk")), None) or next(
        (name for name in box.folders() if name.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower() in JUNK_NAMES), None
    )
    if junk is None:
        return Check("imap.junk", True, "no junk folder found")
    return Check(
        "imap.junk",
        True,
        f"'{junk}' exists: a reply the provider files there as spam is never seen by mailbot; look at it "
        "during a round, or add a rule that never files the municipality's domains as spam",
    )


# -- SMTP ------------------------------------------------------------------------------------------------------


def _smtp_login_detail(config: MailbotConfig, sender: Sender) -> Callable[[], str]:
    smtp = config.smtp

    def detail() -> str:
        features: dict[str, str] = getattr(sender, "features", {})
        where = f"{smtp.host}:{smtp.effective_port} ({smtp.security})"
        if not smtp.user or not (smtp.password or smtp.oauth2_token):
            return f"connected to {where} without AUTH (smtp.user empty): the server must relay for this host"
        offered = features.get("auth", "").strip()
        return f"connected to {where}, AUTH as {smtp.user}" + (f" (server offers {offered})" if offered else "")

    return detail


def _test_mail(app: App, to: str, subject: str, text: str) -> tuple[str, bytes]:
    smtp = app.config.smtp
    mail = OutgoingMail(
        kind="check",
        to=(to,),
        subject=subject,
        text=text,
        html=f"<p>{text}</p>",
        auto_submitted=AutoSubmitted.GENERATED,
    )
    message_id = new_message_id(smtp.effective_message_id_domain)
    raw = build_message(
        mail,
        message_id=message_id,
        from_address=smtp.from_address,
        from_name=smtp.from_name,
        loop_value=smtp.from_address,
        now=app.clock.now(),
    )
    return message_id, raw


def _send_test(app: App, sender: Sender, address: str) -> Check:
    _, raw = _test_mail(
        app,
        address,
        "mailbot: prueba de envío",
        "Este es un mensaje de prueba de mailbot (mailbot check --send-test). No requiere respuesta.",
    )
    try:
        result = sender.send(app.config.smtp.from_address, [address], raw)
    except (MailbotError, SendFailedError) as exc:
        return Check("smtp.send_test", False, f"the server did not accept a mail to {address}: {exc}")
    if result.refused:
        refusal = result.refused[address]
        return Check("smtp.send_test", False, f"the server refused {address}: {refusal.code} {refusal.text}")
    return Check("smtp.send_test", True, f"a test mail to {address} was accepted by the server")


def _plus_addressing(app: App, box: _Probe, sender: Sender, options: CheckOptions, *, ready: bool) -> Check:
    """Replies come back to planeacion+TOKEN@…: the server must deliver that address to the watched folder."""
    smtp, imap = app.config.smtp, app.config.imap
    if not smtp.plus_address_reply:
        return Check("smtp.plus_addressing", True, "off (smtp.plus_address_reply: false)")
    if not options.plus_test:
        return Check(
            "smtp.plus_addressing", True, "not tested: `--plus-test` mails planeación's plus address and waits for it"
        )
    if not ready:
        return Check("smtp.plus_addressing", False, "not tested: IMAP or SMTP above failed")
    address = plus_address(smtp.from_address, f"check{secrets.token_hex(4)}")
    last_uid = box.state(imap.folder).uidnext - 1
    message_id, raw = _test_mail(
        app, address, "mailbot: prueba de subdirección (+)", "Prueba de mailbot check --plus-test: no requiere acción."
    )
    try:
        sender.send(smtp.from_address, [address], raw)
    except (MailbotError, SendFailedError) as exc:
        return Check("smtp.plus_addressing", False, f"the server refused {address}: {exc}")
    uid = _wait_for_message(box, imap.folder, last_uid, message_id, options.wait)
    if uid is None:
        return Check(
            "smtp.plus_addressing",
            False,
            f"a mail to {address} did not arrive in '{imap.folder}' within {options.wait:g} s: the server may not "
            "deliver plus addresses; ask the provider, or set smtp.plus_address_reply: false",
        )
    box.move(imap.folder, uid, imap.outcome_folders.ignored)
    return Check("smtp.plus_addressing", True, f"a mail to {address} arrived in '{imap.folder}' (filed as ignored)")


def _wait_for_message(box: _Probe, folder: str, last_uid: int, message_id: str, wait: float) -> int | None:
    deadline = time.monotonic() + wait
    parser = BytesParser(policy=default_policy)
    while True:
        for uid, raw in box.fetch_raw(folder, box.uids_after(folder, last_uid)):
            last_uid = max(last_uid, uid)
            found = str(parser.parsebytes(raw, headersonly=True).get("Message-ID", "")).strip().strip("<>")
            if found == message_id:
                return uid
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        box.wait_for_new(folder, min(left, _WAIT_STEP))


# -- the rest --------------------------------------------------------------------------------------------------


def signing_secret(config: MailbotConfig) -> Check:
    if config.signing.secret.get_secret_value().startswith(EXAMPLE_SECRET_PREFIX):
        return Check(
            "signing.secret",
            False,
            "signing.secret is the example's, which is public: anyone could sign a workbook; set MAILBOT_SECRET "
            "to a long random value (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    return Check("signing.secret", True, "set, and not the example's")


def database(app: App) -> Check:
    """Reachable and at the newest migration, without creating anything: `app.engine` opens it the way every
    command does (`migrate.open_current`), so this check and the commands give the same verdict in the same words."""
    shown = make_url(app.config.storage.database_url).render_as_string(hide_password=True)
    try:
        app.engine  # noqa: B018 - opening is the check
    except StorageError as exc:
        return Check("storage.database", False, str(exc))
    return Check("storage.database", True, f"{shown} at the latest migration ({migrate.head_revision(app.engine)})")
