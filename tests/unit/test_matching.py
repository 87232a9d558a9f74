"""Matching a reply to its mailing from every signal, and the sender policy (pure: no server)."""

from __future__ import annotations

from mailbot.domain.control import ControlBlock
from mailbot.domain.inbound import MessageFacts
from mailbot.domain.matching import Directory, MailingRef, WorkbookControl, match

HAC = MailingRef(1, "HAC", 2027, "formulacion", "tokhac")
EDU = MailingRef(2, "EDU", 2027, "formulacion", "tokedu")
DIRECTORY = Directory(
    by_token={"tokhac": HAC, "tokedu": EDU},
    by_message_id={"mailing-hac@municipio.test": HAC, "answer-edu@municipio.test": EDU},
    current={"HAC": HAC, "EDU": EDU},
    addresses={
        "hacienda@municipio.test": frozenset({"HAC"}),
        "educacion@municipio.test": frozenset({"EDU"}),
    },
    own_domains=frozenset({"municipio.test"}),
    mailbox_address="planeacion@municipio.test",
)


def facts(sender: str, **changes: object) -> MessageFacts:
    return MessageFacts(from_address=sender, **changes)  # type: ignore[arg-type]


def signed(dependencia: str, token: str, verified: bool = True) -> WorkbookControl:
    return WorkbookControl(ControlBlock("formulacion", 2027, dependencia, token), verified)


def test_all_signals_agree() -> None:
    result = match(
        facts(
            "hacienda@municipio.test",
            in_reply_to=("mailing-hac@municipio.test",),
            to=("planeacion+tokhac@municipio.test",),
            subject="RE: [E-DE-F-010 HAC 2027] Formulación",
        ),
        signed("HAC", "tokhac"),
        DIRECTORY,
    )
    assert result.status == "matched"
    assert result.mailing == HAC
    assert set(result.signals) == {"control", "thread", "plus_address", "subject_tag", "sender"}


def test_attachment_alone_matches_a_forward_from_an_assistant_of_the_domain() -> None:
    result = match(facts("asistente@municipio.test", subject="Fwd: plan"), signed("HAC", "tokhac"), DIRECTORY)
    assert result.status == "matched"
    assert result.mailing == HAC


def test_assistant_without_a_signed_workbook_is_rejected() -> None:
    result = match(facts("asistente@municipio.test", in_reply_to=("mailing-hac@municipio.test",)), None, DIRECTORY)
    assert result.status == "rejected_sender"


def test_registered_policy_refuses_the_assistant_even_with_a_signed_workbook() -> None:
    result = match(facts("asistente@municipio.test"), signed("HAC", "tokhac"), DIRECTORY, allow="registered")
    assert result.status == "rejected_sender"


def test_educacion_sending_hacienda_workbook_is_quarantined() -> None:
    result = match(facts("educacion@municipio.test"), signed("HAC", "tokhac"), DIRECTORY)
    assert result.status == "quarantined"
    assert "disagree" in result.reason
    assert result.signals == {"control": "HAC", "sender": "EDU"}


def test_another_dependencias_token_from_this_dependencias_address_is_quarantined() -> None:
    result = match(facts("hacienda@municipio.test", to=("planeacion+tokedu@municipio.test",)), None, DIRECTORY)
    assert result.status == "quarantined"


def test_forged_control_block_is_quarantined_whatever_else_agrees() -> None:
    result = match(
        facts("hacienda@municipio.test", in_reply_to=("mailing-hac@municipio.test",)),
        signed("HAC", "tokhac", verified=False),
        DIRECTORY,
    )
    assert result.status == "quarantined"
    assert "signature" in result.reason


def test_a_reply_to_an_answer_threads_back_to_its_mailing() -> None:
    result = match(facts("educacion@municipio.test", references=("answer-edu@municipio.test",)), None, DIRECTORY)
    assert result.status == "matched"
    assert result.mailing == EDU


def test_subject_tag_alone_never_matches() -> None:
    result = match(facts("someone@municipio.test", subject="[E-DE-F-010 HAC 2027] plan"), None, DIRECTORY)
    assert result.status == "unmatched"
    assert "subject tag" in result.reason


def test_registered_sender_alone_matches_the_current_mailing() -> None:
    result = match(facts("hacienda@municipio.test", subject="Plan de acción"), None, DIRECTORY)
    assert result.status == "matched"
    assert result.mailing == HAC


def test_outsider_with_a_valid_workbook_is_rejected() -> None:
    result = match(facts("alguien@externo.test"), signed("HAC", "tokhac"), DIRECTORY)
    assert result.status == "rejected_sender"
    assert "outside" in result.reason


def test_nothing_known_is_unmatched() -> None:
    assert match(facts("alguien@externo.test", subject="Hola"), None, DIRECTORY).status == "unmatched"
