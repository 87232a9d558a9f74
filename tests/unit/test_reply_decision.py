"""A reply's verdict from plain values (`domain/reply.py`): no database, no archive, no server, no clock."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest

from mailbot.adapters.workbook.reader import ReaderLimits, read_workbook
from mailbot.config import MailbotConfig, load_config
from mailbot.domain import reply
from mailbot.domain.context import ValidationContext
from mailbot.domain.decisions import Answer, Decision, Outcome
from mailbot.domain.findings import Severity, error
from mailbot.domain.inbound import AttachmentPart, DeliveryReport, MessageFacts, ParsedMessage, RecipientStatus
from mailbot.domain.matching import Directory, MailingRef, Match
from mailbot.domain.workbook_format import ControlField, Ronda
from mailbot.services.validation import build_context
from tests.support.configs import TEST_SECRET, write_config
from tests.support.plans import Meta, make_plan
from tests.support.workbooks import edit_workbook, set_control

TOKEN = "tok-test-0001"
HAC = MailingRef(7, "HAC", 2027, "formulacion", TOKEN)
SENDER = "hacienda@municipio.test"
DIRECTORY = Directory(
    by_token={TOKEN: HAC},
    by_message_id={"mailing-hac@municipio.test": HAC},
    current={"HAC": HAC},
    addresses={SENDER: frozenset({"HAC"})},
    own_domains=frozenset({"municipio.test"}),
    mailbox_address="planeacion@municipio.test",
)
POLICY = reply.Policy(
    own_domains=frozenset({"municipio.test"}),
    own_message_id_domain="mailbot.municipio.test",
    own_addresses=frozenset({"planeacion@municipio.test"}),
    trusted_authserv_ids=("mx.municipio.test",),
    allow="domain",
    answer_outsiders=False,
    secret=TEST_SECRET,
)
RECEIVED = dt.date(2027, 1, 11)
THREAD = {"in_reply_to": ("mailing-hac@municipio.test",), "subject": "RE: Plan de acción 2027"}


def message(
    sender: str = SENDER, files: tuple[AttachmentPart, ...] = (), text: str = "", **facts: object
) -> ParsedMessage:
    return ParsedMessage(MessageFacts(from_address=sender, **facts), files, text=text)  # type: ignore[arg-type]


def xlsx(data: bytes, name: str = "Plan.xlsx") -> AttachmentPart:
    sha = hashlib.sha256(data).hexdigest()
    return AttachmentPart(name, "application/octet-stream", data, "xlsx", "direct", len(data), sha)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    return load_config(write_config(tmp_path_factory.mktemp("reply")), environ={})


def read(config: MailbotConfig, parts: tuple[AttachmentPart, ...]) -> dict[str, reply.Read]:
    limits = ReaderLimits.from_config(config.limits)
    return {part.sha256: read_workbook(part.data, limits) for part in parts}


def placed(config: MailbotConfig, data: bytes, **facts: object) -> reply.Verdict | reply.Placed:
    parsed = message(files=(xlsx(data),), **{**THREAD, **facts})
    assert reply.screen(parsed, DIRECTORY, POLICY, RECEIVED) is None
    return reply.place(parsed, read(config, parsed.attachments), DIRECTORY, POLICY)


# ------------------------------------------------------------------------------------------------ screen


def test_a_persons_reply_passes_the_screen() -> None:
    assert reply.screen(message(**THREAD), DIRECTORY, POLICY, RECEIVED) is None


def test_a_bounce_names_the_mails_it_returns_and_gets_no_answer() -> None:
    failed = RecipientStatus(SENDER, "failed", "5.1.1", "User unknown")
    parsed = ParsedMessage(
        MessageFacts(
            from_address="mailer-daemon@mx.municipio.test",
            is_report=True,
            report_type="delivery-status",
            auto_submitted="auto-replied",
        ),
        report=DeliveryReport("mb-1@mailbot.municipio.test", (failed,), "failed"),
    )
    verdict = reply.screen(parsed, DIRECTORY, POLICY, RECEIVED)
    assert verdict is not None
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.BOUNCE, None)
    assert verdict.bounced == ("mb-1@mailbot.municipio.test",)


def test_an_out_of_office_from_a_registered_address_is_away_until_the_date_it_gives() -> None:
    parsed = message(subject="Respuesta automática: fuera de la oficina", text="Regreso el 15 de enero.")
    verdict = reply.screen(parsed, DIRECTORY, POLICY, RECEIVED)
    assert verdict is not None
    assert verdict.decision.outcome is Outcome.AUTOMATIC
    assert verdict.away == reply.Away("HAC", dt.date(2027, 1, 15))
    assert verdict.decision.reason.endswith("out-of-office of HAC")


def test_an_out_of_office_from_an_unknown_address_is_just_automatic() -> None:
    parsed = message("alguien@municipio.test", subject="Fuera de la oficina", text="Regreso el 15 de enero.")
    verdict = reply.screen(parsed, DIRECTORY, POLICY, RECEIVED)
    assert verdict is not None
    assert verdict.decision.outcome is Outcome.AUTOMATIC
    assert verdict.away is None


def test_a_forged_sender_is_quarantined_without_an_answer() -> None:
    results = ("mx.municipio.test; dmarc=fail header.from=municipio.test",)
    verdict = reply.screen(message(authentication_results=results, **THREAD), DIRECTORY, POLICY, RECEIVED)
    assert verdict is not None
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.QUARANTINED, None)


def test_the_secret_never_shows_in_the_policys_repr() -> None:
    assert TEST_SECRET not in repr(POLICY)


# ------------------------------------------------------------------------------------------------ place


def test_a_question_without_a_workbook_from_a_registered_address_goes_to_a_person() -> None:
    parsed = message(text="¿Hasta cuándo hay plazo para enviar el plan?", **THREAD)
    verdict = reply.place(parsed, {}, DIRECTORY, POLICY)
    assert isinstance(verdict, reply.Verdict)
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.QUESTION, Answer.QUESTION)


def test_no_workbook_and_no_question_is_no_attachment() -> None:
    verdict = reply.place(message(text="Buenos días.", **THREAD), {}, DIRECTORY, POLICY)
    assert isinstance(verdict, reply.Verdict)
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.NO_ATTACHMENT, Answer.NO_ATTACHMENT)


def test_an_outsider_that_matches_nothing_is_unmatched_and_not_answered() -> None:
    verdict = reply.place(message("alguien@otro.test", subject="Hola"), {}, DIRECTORY, POLICY)
    assert isinstance(verdict, reply.Verdict)
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.UNMATCHED, None)
    assert verdict.insider is False


def test_an_insider_is_told_by_its_domain_in_any_case() -> None:
    verdict = reply.place(message("Alguien@MUNICIPIO.test", subject="Hola"), {}, DIRECTORY, POLICY)
    assert isinstance(verdict, reply.Verdict)
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.UNMATCHED, Answer.REVIEW)
    assert verdict.insider is True


def test_one_signed_workbook_for_a_known_mailing_is_placed_with_its_token(config: MailbotConfig) -> None:
    result = placed(config, make_plan(config))
    assert isinstance(result, reply.Placed)
    assert result.match.mailing == HAC
    assert result.expected_token == TOKEN
    assert result.workbook is not None


def test_a_workbook_whose_signature_does_not_verify_is_quarantined_as_tampered(config: MailbotConfig) -> None:
    data = edit_workbook(make_plan(config), lambda wb: set_control(wb, {ControlField.CODIGO_DEPENDENCIA: "EDU"}))
    result = placed(config, data)
    assert isinstance(result, reply.Verdict)
    assert result.decision.outcome is Outcome.QUARANTINED
    assert result.tampered is True


def test_of_several_workbooks_the_only_signed_one_is_picked(config: MailbotConfig) -> None:
    signed, other = xlsx(make_plan(config)), xlsx(b"PK\x03\x04 not really a workbook", "Copia.xlsx")
    parsed = message(files=(other, signed), **THREAD)
    result = reply.place(parsed, read(config, parsed.attachments), DIRECTORY, POLICY)
    assert isinstance(result, reply.Placed)
    assert result.chosen == signed


def test_several_unsigned_files_are_several_attachments() -> None:
    first, second = xlsx(b"uno", "a.xlsx"), xlsx(b"dos", "b.xlsx")
    unreadable: dict[str, reply.Read] = {p.sha256: error("F01", None, None, p.filename, "x") for p in (first, second)}
    verdict = reply.place(message(files=(first, second), **THREAD), unreadable, DIRECTORY, POLICY)
    assert isinstance(verdict, reply.Verdict)
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.SEVERAL_ATTACHMENTS, Answer.SEVERAL)


# ------------------------------------------------------------------------------------------------ judge, settle


def context(config: MailbotConfig, placed: reply.Placed) -> ValidationContext:
    return build_context(
        config, "HAC", vigencia=2027, ronda=Ronda.FORMULACION, expected_token=placed.expected_token, baseline=None
    )


def test_a_valid_plan_is_accepted_with_its_summary(config: MailbotConfig) -> None:
    result = placed(config, make_plan(config, n=3))
    assert isinstance(result, reply.Placed)
    verdict = reply.judge(result, context(config, result))
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.ACCEPTED, Answer.ACCEPTANCE)
    assert verdict.summary is not None
    assert verdict.summary.metas == 3
    assert verdict.chosen == result.chosen
    assert verdict.match == result.match


def test_a_plan_with_an_error_asks_for_corrections(config: MailbotConfig) -> None:
    def spoil(metas: list[Meta]) -> None:
        metas[0]["unit"] = "Galones"

    result = placed(config, make_plan(config, mutate=spoil))
    assert isinstance(result, reply.Placed)
    verdict = reply.judge(result, context(config, result))
    assert (verdict.decision.outcome, verdict.decision.answer) == (Outcome.CORRECTION_REQUESTED, Answer.CORRECTION)
    assert any(f.severity is Severity.ERROR for f in verdict.findings)


def test_an_unreadable_workbook_is_its_own_finding(config: MailbotConfig) -> None:
    part = xlsx(b"not a workbook")
    why = error("F01", None, None, part.filename, "El archivo no se puede leer.")
    ready = reply.Placed(Match("matched", "by thread", HAC, "HAC"), part, why, None, True)
    verdict = reply.judge(ready, context(config, ready))
    assert verdict.decision.outcome is Outcome.CORRECTION_REQUESTED
    assert verdict.findings == (why,)
    assert verdict.workbook is None
    assert verdict.summary is None


def test_the_same_file_submitted_before_settles_as_a_duplicate_of_the_first(config: MailbotConfig) -> None:
    result = placed(config, make_plan(config, n=2))
    assert isinstance(result, reply.Placed)
    verdict = reply.judge(result, context(config, result))
    assert reply.settle(verdict, None) == verdict
    first = reply.Earlier(41, dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC), "PA-2027-HAC-0001", "accepted")
    settled = reply.settle(verdict, first)
    assert (settled.decision.outcome, settled.decision.answer) == (Outcome.DUPLICATE, Answer.DUPLICATE)
    assert settled.decision.reason == "same file as submission #41"
    assert settled.duplicate_of == first
    assert replace(settled, decision=verdict.decision, duplicate_of=None) == verdict


def test_settling_a_verdict_without_a_workbook_changes_nothing() -> None:
    verdict = reply.Verdict(Decision(Outcome.NO_ATTACHMENT, "no workbook attached", Answer.NO_ATTACHMENT))
    first = reply.Earlier(1, dt.datetime(2027, 1, 5, tzinfo=dt.UTC), None, "correction_requested")
    assert reply.settle(verdict, first) is verdict
