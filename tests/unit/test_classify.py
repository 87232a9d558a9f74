"""classify: mail that must never be answered (MAIL.md section 2) is told apart from replies, from facts alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mailbot.domain.classify import Classification, classify, fold
from mailbot.domain.inbound import DeliveryReport, MessageFacts, ParsedMessage, RecipientStatus

OWN_DOMAINS = frozenset({"alcaldia.gov.co"})
OWN_ID_DOMAIN = "mailbot.alcaldia.gov.co"
OWN_ADDRESSES = frozenset({"planeacion@alcaldia.gov.co"})
SECRETARIO = MessageFacts(
    message_id="CAF123@mail.gmail.com",
    from_address="hacienda@alcaldia.gov.co",
    from_header="Secretaría de Hacienda <hacienda@alcaldia.gov.co>",
    subject="Re: [E-DE-F-010 HAC 2027] Plan de acción",
    in_reply_to=("mb-1@mailbot.alcaldia.gov.co",),
)


def kind_of(facts: MessageFacts, report: DeliveryReport | None = None, **own: object) -> Classification:
    settings: dict[str, object] = {
        "own_domains": OWN_DOMAINS,
        "own_message_id_domain": OWN_ID_DOMAIN,
        "own_addresses": OWN_ADDRESSES,
    }
    settings.update(own)
    return classify(ParsedMessage(facts=facts, report=report), **settings)  # type: ignore[arg-type]


def test_a_secretarios_reply_is_a_reply() -> None:
    assert kind_of(SECRETARIO) == Classification("reply", "no sign of automatic mail")


def test_empty_facts_are_a_reply() -> None:
    """Nothing says a machine sent it (a message whose headers could not be read): matching decides the rest."""
    assert kind_of(MessageFacts()).kind == "reply"


# ------------------------------------------------------------------------------------------------ headers


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"auto_submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"auto_submitted": "auto-generated (failure)"}, "Auto-Submitted: auto-generated (failure)"),
        ({"auto_submitted": ""}, "Auto-Submitted: (empty)"),
        ({"precedence": "bulk"}, "Precedence: bulk"),
        ({"precedence": "JUNK"}, "Precedence: JUNK"),
        ({"precedence": "list"}, "Precedence: list"),
        ({"precedence": "auto_reply"}, "Precedence: auto_reply"),
        ({"x_autoreply": "yes"}, "X-Autoreply header"),
        ({"x_autorespond": ""}, "X-Autorespond header"),
        ({"x_auto_response_suppress": "All"}, "X-Auto-Response-Suppress header"),
        ({"list_id": "<planeacion.lists.example>"}, "List-Id header"),
        ({"list_unsubscribe": "<mailto:leave@lists.example>"}, "List-Unsubscribe header"),
        ({"x_ms_exchange_inbox_rules_loop": "jefe@alcaldia.gov.co"}, "X-MS-Exchange-Inbox-Rules-Loop header"),
        ({"return_path": "<>"}, "empty Return-Path (null sender)"),
        ({"is_report": True, "report_type": "disposition-notification"}, "read receipt (disposition notification)"),
        ({"is_report": True, "report_type": "feedback-report"}, "report (feedback-report)"),
        ({"is_report": True, "report_type": None}, "report (unknown type)"),
    ],
)
def test_automatic_headers(change: dict[str, object], reason: str) -> None:
    assert kind_of(replace(SECRETARIO, **change)) == Classification("automatic", reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"auto_submitted": "no"},
        {"auto_submitted": " No "},
        {"precedence": "first-class"},
        {"return_path": "<hacienda@alcaldia.gov.co>"},
    ],
)
def test_markers_that_do_not_make_mail_automatic(change: dict[str, object]) -> None:
    assert kind_of(replace(SECRETARIO, **change)).kind == "reply"  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ senders


@pytest.mark.parametrize(
    "address",
    [
        "mailer-daemon@mx.alcaldia.gov.co",
        "MAILER-DAEMON@gmail.com",
        "postmaster@alcaldia.gov.co",
        "noreply@accounts.google.com",
        "no-reply@sharepointonline.com",
        "no_reply@example.org",
        "donotreply@dian.gov.co",
        "do-not-reply@example.org",
        "gmail-noreply@google.com",
        "no-responder@minhacienda.gov.co",
        "noreply123@example.org",
    ],
)
def test_robot_senders_are_automatic(address: str) -> None:
    assert kind_of(replace(SECRETARIO, from_address=address.lower())).kind == "automatic"


@pytest.mark.parametrize("address", ["ana.noriega@alcaldia.gov.co", "noreplyfan@example.org", "replies@x.co"])
def test_people_whose_names_look_close_are_not_robots(address: str) -> None:
    assert kind_of(replace(SECRETARIO, from_address=address)).kind == "reply"


@pytest.mark.parametrize(
    "header",
    [
        "MAILER-DAEMON (Mail Delivery System)",
        "Mail Delivery Subsystem <MAILER-DAEMON>",
        "Mail Delivery System <mailer-daemon@localhost>",
        '"Postmaster" <postmaster@mx>',
    ],
)
def test_robot_sender_without_a_valid_address_is_read_from_the_header(header: str) -> None:
    """Bounces often come from addresses email-validator refuses (no domain, a host without a dot)."""
    facts = replace(SECRETARIO, from_address=None, from_header=header)
    assert kind_of(facts).reason in ("sender is mailer-daemon", "sender is postmaster")


# ------------------------------------------------------------------------------------------------ subjects


@pytest.mark.parametrize(
    "subject",
    [
        "Respuesta automática: [E-DE-F-010 HAC 2027] Plan de acción",
        "RESPUESTA AUTOMATICA: Plan",
        "Fuera de la oficina: Plan",
        "Fuera de oficina",
        "Ausente: Plan de acción",
        "Automatic reply: Plan",
        "Out of Office: Plan",
        "Out of the office until Monday",
        "Autoreply: Plan",
        "Auto-reply: Plan",
        "Auto: Plan de acción",
        "AUTO:Plan",
        "Vacation: back on the 12th",
        "Réponse automatique : Plan",
        "  [EXTERNO] Respuesta automática: Plan",
    ],
)
def test_out_of_office_subjects_are_automatic(subject: str) -> None:
    result = kind_of(replace(SECRETARIO, subject=subject))
    assert result == Classification("automatic", "subject of an out-of-office reply")


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [E-DE-F-010 HAC 2027] Plan de acción",
        "Autorización del plan",
        "Ausentismo: informe",
        "Automóviles de la secretaría",
        "Re: Respuesta automática",  # a person replying about an auto-reply writes "Re:" first
        "Vacaciones del equipo",
        "Ausencia del secretario: envío el plan",
        "",
    ],
)
def test_ordinary_subjects_are_replies(subject: str) -> None:
    assert kind_of(replace(SECRETARIO, subject=subject)).kind == "reply"


def test_fold_drops_accents_case_and_extra_blanks() -> None:
    assert fold("  Respuesta   AUTOMÁTICA ") == "respuesta automatica"


# ------------------------------------------------------------------------------------------------ loops


def test_mailbots_own_header_is_a_loop() -> None:
    assert kind_of(replace(SECRETARIO, x_mailbot_loop="alcaldia")).kind == "loop"


def test_mail_from_mailbots_own_address_is_a_loop() -> None:
    assert kind_of(replace(SECRETARIO, from_address="planeacion@alcaldia.gov.co")) == Classification(
        "loop", "sent from mailbot's own address"
    )


def test_a_message_id_on_mailbots_domain_is_a_loop() -> None:
    facts = replace(SECRETARIO, message_id="mb-9@MAILBOT.alcaldia.gov.co")
    assert kind_of(facts) == Classification("loop", "Message-ID on mailbot's Message-ID domain")


def test_a_message_id_on_a_subdomain_is_not_a_loop() -> None:
    """An Exchange server names its ids after its host: mail.<domain> is a colleague, not mailbot."""
    facts = replace(SECRETARIO, message_id="abc@mail.mailbot.alcaldia.gov.co")
    assert kind_of(facts).kind == "reply"


def test_a_shared_message_id_domain_proves_nothing_alone() -> None:
    """When mailbot's Message-ID domain is the municipality's mail domain, colleagues' servers use it too."""
    facts = replace(SECRETARIO, message_id="1234.JavaMail.zimbra@alcaldia.gov.co")
    assert kind_of(facts, own_message_id_domain="alcaldia.gov.co").kind == "reply"
    looped = replace(facts, x_mailbot_loop="1")
    assert kind_of(looped, own_message_id_domain="alcaldia.gov.co").kind == "loop"


def test_loop_wins_over_every_other_rule() -> None:
    facts = replace(SECRETARIO, x_mailbot_loop="1", auto_submitted="auto-replied", is_report=True)
    assert kind_of(facts).kind == "loop"


# ------------------------------------------------------------------------------------------------ bounces

DAEMON = replace(
    SECRETARIO,
    from_address="mailer-daemon@mx.alcaldia.gov.co",
    subject="Undelivered Mail Returned to Sender",
    message_id="20260303.ABC@mx.alcaldia.gov.co",
    in_reply_to=(),
)
DSN = replace(DAEMON, is_report=True, report_type="delivery-status", auto_submitted="auto-replied")
FAILED = RecipientStatus("hacienda@alcaldia.gov.co", "failed", "5.1.1", "550 5.1.1 User unknown")
DELAYED = RecipientStatus("hacienda@alcaldia.gov.co", "delayed", "4.4.1", "")


def test_a_failed_dsn_is_a_bounce_with_the_returned_id() -> None:
    report = DeliveryReport("mb-42@mailbot.alcaldia.gov.co", (FAILED,), "failed")
    assert kind_of(DSN, report) == Classification(
        "bounce", "delivery status notification (failed)", ("mb-42@mailbot.alcaldia.gov.co",)
    )


def test_a_delayed_dsn_is_a_bounce_without_ids() -> None:
    """A delay is not a failure: nothing is marked failed, and it is never answered either."""
    report = DeliveryReport("mb-42@mailbot.alcaldia.gov.co", (DELAYED,), "delayed")
    assert kind_of(DSN, report) == Classification("bounce", "delivery status notification (delayed)")


def test_a_dsn_without_the_original_falls_back_to_references_on_mailbots_domain() -> None:
    facts = replace(DSN, references=("other@x.co", "mb-5@mailbot.alcaldia.gov.co"))
    report = DeliveryReport(None, (FAILED,), "failed")
    assert kind_of(facts, report).bounced_message_ids == ("mb-5@mailbot.alcaldia.gov.co",)


def test_an_unreadable_dsn_is_still_a_bounce() -> None:
    assert kind_of(DSN) == Classification("bounce", "delivery status notification (unknown)")


def test_a_text_bounce_from_a_mail_daemon_names_the_message() -> None:
    report = DeliveryReport("mb-7@mailbot.alcaldia.gov.co", (), "failed", standard=False)
    assert kind_of(DAEMON, report) == Classification(
        "bounce", "bounce from mailer-daemon (failed)", ("mb-7@mailbot.alcaldia.gov.co",)
    )


def test_a_mail_daemon_message_without_an_id_is_only_automatic() -> None:
    report = DeliveryReport(None, (FAILED,), "failed", standard=False)
    assert kind_of(DAEMON, report) == Classification("automatic", "sender is mailer-daemon")


def test_a_text_report_from_a_person_is_not_a_bounce() -> None:
    """Only a mail daemon's text counts as a bounce: a person quoting a Message-ID line is not one."""
    report = DeliveryReport("mb-7@mailbot.alcaldia.gov.co", (), "failed", standard=False)
    assert kind_of(SECRETARIO, report).kind == "reply"


def test_recipient_failed_without_action_when_status_is_permanent() -> None:
    assert RecipientStatus("a@b.co", "", "5.5.0", "").failed
    assert not RecipientStatus("a@b.co", "", "4.4.1", "").failed
    assert not RecipientStatus("a@b.co", "delivered", "2.0.0", "").failed


def test_exchange_suppress_header_does_not_swallow_a_plan() -> None:
    """Exchange stamps X-Auto-Response-Suppress on people's mail through a distribution list: with a workbook
    attached it is a secretario's reply; without one it stays automatic."""
    from mailbot.domain.inbound import AttachmentPart

    facts = replace(SECRETARIO, x_auto_response_suppress="DR, OOF, AutoReply")
    plan = AttachmentPart("Plan.xlsx", "application/octet-stream", b"PK", "xlsx", "direct", 2, "ab")
    settings = {"own_domains": OWN_DOMAINS, "own_message_id_domain": OWN_ID_DOMAIN, "own_addresses": OWN_ADDRESSES}
    with_plan = classify(ParsedMessage(facts=facts, attachments=(plan,)), **settings)  # type: ignore[arg-type]
    assert with_plan.kind == "reply"
    assert kind_of(facts).kind == "automatic"
    auto_replied = replace(facts, auto_submitted="auto-replied")
    assert classify(ParsedMessage(facts=auto_replied, attachments=(plan,)), **settings).kind == "automatic"  # type: ignore[arg-type]
