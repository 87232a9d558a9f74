"""The verdicts of `mailbot check` that the test servers cannot produce: a server without MOVE or UIDPLUS, a junk
folder found by its special use, plus addressing that never delivers. The IMAP side is a small stand-in here; the
real servers are in tests/integration/test_check.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from mailbot.adapters.imap import FolderState
from mailbot.app import App
from mailbot.config import load_config
from mailbot.services.check import CheckOptions, run
from tests.support.configs import write_config
from tests.support.fakes import FakeSender, FakeSmtpServer


class BareServer:
    """An IMAP server with no IDLE, MOVE or UIDPLUS that never receives anything: only what the checks ask."""

    capabilities = frozenset({"IMAP4REV1"})
    connected = True

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def namespace(self) -> tuple[str, str]:
        return "", "/"

    def server_name(self, name: str) -> str:
        return name

    def state(self, folder: str) -> FolderState:
        return FolderState(uidvalidity=1, uidnext=5, exists=4)

    def folder_exists(self, name: str) -> bool:
        return True

    def folders(self, special_use: str | None = None) -> list[str]:
        return ["Basura"] if special_use == "\\Junk" else ["INBOX", "Basura"]

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        return []

    def fetch_raw(self, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        return iter(())

    def wait_for_new(self, folder: str, timeout: float, stop: threading.Event | None = None) -> bool:
        return False


def test_a_bare_server_fails_capabilities_names_its_junk_folder_and_plus_mail_that_never_comes(
    tmp_path: Path,
) -> None:
    smtp = FakeSmtpServer()
    app = App(
        load_config(write_config(tmp_path), environ={}),
        mailboxes=BareServer,  # type: ignore[arg-type]  # a stand-in for the checks' wider IMAP protocol
        senders=lambda: FakeSender(smtp),
    )

    report = run(app, CheckOptions(plus_test=True, wait=0.01))

    checks = {c.name: c for c in report.checks}
    assert not report.ok
    assert not checks["imap.capabilities"].ok
    assert "no IDLE: mailbot polls every imap.poll_interval" in checks["imap.capabilities"].detail
    assert "neither MOVE nor UIDPLUS" in checks["imap.capabilities"].detail
    assert checks["imap.junk"].detail.startswith("'Basura' exists")
    assert not checks["smtp.plus_addressing"].ok
    assert "smtp.plus_address_reply: false" in checks["smtp.plus_addressing"].detail
    (sent,) = smtp.sent
    (address,) = sent.recipients
    assert address.startswith("planeacion+check")
    assert address.endswith("@villaesperanza.gov.co")  # the example's smtp.from_address, with a token
