"""Every file of the shared corpus of real mail parses without an exception and classifies as judged.

The expectations live in tests/data/corpus_expectations.py, one entry per message (STYLE.md habit 6). The raw TNEF
blobs are wrapped as a winmail.dat attachment, the way Outlook sends them.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from mailbot.adapters.mime import parse_message
from mailbot.domain.classify import classify
from mailbot.domain.inbound import ParsedMessage
from tests.data.corpus_expectations import ATTACHMENTS, BOUNCED_IDS, KINDS, TNEF_NAMES
from tests.support.corpus import CORPUS, needs_corpus

pytestmark = needs_corpus

LIMITS = {"max_message_bytes": 25 * 2**20, "max_attachment_bytes": 15 * 2**20}
OWN = {
    "own_domains": frozenset({"alcaldia.gov.co"}),
    "own_message_id_domain": "mailbot.alcaldia.gov.co",
    "own_addresses": frozenset({"planeacion@alcaldia.gov.co"}),
}


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file())


def is_message(path: str) -> bool:
    return not path.endswith(".tnef") and Path(path).name != "README.md"


def as_winmail(tnef: bytes) -> bytes:
    """A raw TNEF blob as Outlook mails it: an application/ms-tnef part named winmail.dat."""
    return (
        b"From: Secretaria <secretaria@alcaldia.gov.co>\r\nSubject: Plan\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n--w\r\nContent-Type: text/plain\r\n\r\nAdjunto.\r\n'
        b'--w\r\nContent-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n'
        b'Content-Disposition: attachment; filename="winmail.dat"\r\n\r\n' + base64.encodebytes(tnef) + b"--w--\r\n"
    )


def parsed(path: str) -> ParsedMessage:
    raw = (CORPUS / path).read_bytes()
    return parse_message(as_winmail(raw) if path.endswith(".tnef") else raw, **LIMITS)


@pytest.mark.parametrize("path", corpus_files())
def test_every_file_parses_and_classifies(path: str) -> None:
    """Nothing in the corpus raises, and everything gets a classification (README.md and TNEF blobs included)."""
    message = parsed(path)
    assert classify(message, **OWN).kind in ("reply", "automatic", "bounce", "loop")


@pytest.mark.parametrize("path", sorted(KINDS))
def test_kind_is_as_judged(path: str) -> None:
    result = classify(parsed(path), **OWN)
    assert result.kind == KINDS[path], result.reason
    if result.kind == "bounce":
        assert result.bounced_message_ids == BOUNCED_IDS[path]
    else:
        assert result.bounced_message_ids == ()


def test_every_message_is_judged() -> None:
    """A file added to the corpus must get an entry in tests/data/corpus_expectations.py."""
    messages = {path for path in corpus_files() if is_message(path)}
    assert messages - set(KINDS) == set()
    assert set(KINDS) - messages == set()
    assert set(BOUNCED_IDS) == {path for path, kind in KINDS.items() if kind == "bounce"}
    assert set(TNEF_NAMES) == {path for path in corpus_files() if path.endswith(".tnef")}


@pytest.mark.parametrize("path", [p for p in corpus_files() if is_message(p)])
def test_attachments_are_as_judged(path: str) -> None:
    found = tuple((a.filename, a.origin, str(a.kind)) for a in parsed(path).attachments)
    assert found == ATTACHMENTS.get(path, ())


@pytest.mark.parametrize("path", sorted(TNEF_NAMES))
def test_tnef_blobs_give_their_files(path: str) -> None:
    message = parsed(path)
    names = tuple(a.filename for a in message.attachments if a.origin == "tnef")
    assert names == TNEF_NAMES[path]
    assert all(a.data for a in message.attachments if a.origin == "tnef" and a.size)


def test_automatic_mail_in_the_corpus_is_never_a_reply() -> None:
    """The README's promise: DSNs, read receipts and auto-replies are recognised, so none is ever answered."""
    automatic = [path for path, kind in KINDS.items() if kind != "reply"]
    assert len(automatic) == 20
    for path in automatic:
        assert classify(parsed(path), **OWN).kind != "reply", path
