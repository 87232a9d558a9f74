"""Outcomes and answers (pure)."""

from __future__ import annotations

from mailbot.domain.decisions import (
    Answer,
    Outcome,
    candidates,
    decide_attachments,
    decide_unplaced,
    decide_validated,
    radicado,
)
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.inbound import AttachmentPart
from mailbot.domain.matching import Match


def part(name: str | None, kind: str, sha: str) -> AttachmentPart:
    return AttachmentPart(name, "application/octet-stream", b"x", kind, "direct", 1, sha)


def test_candidates_ignore_images_and_fold_repeats() -> None:
    found = candidates(
        [
            part("image001.png", "unknown", "a"),
            part("Plan.xlsx", "xlsx", "b"),
            part("Plan (copia).xlsx", "xlsx", "b"),
            part("plan.pdf", "pdf", "c"),
            part("winmail.dat", "xls", "d"),
        ]
    )
    assert [p.sha256 for p in found] == ["b", "c", "d"]


def test_no_attachment_link_or_several() -> None:
    none = decide_attachments([], [])
    assert none is not None
    assert (none.outcome, none.answer) == (Outcome.NO_ATTACHMENT, Answer.NO_ATTACHMENT)
    link = decide_attachments([], ["https://1drv.ms/x/abc"])
    assert link is not None
    assert link.answer is Answer.CLOUD_LINK
    several = decide_attachments([part("a.xlsx", "xlsx", "1"), part("b.xlsx", "xlsx", "2")], [])
    assert several is not None
    assert several.outcome is Outcome.SEVERAL_ATTACHMENTS
    assert decide_attachments([part("a.xlsx", "xlsx", "1")], []) is None


def test_validated_outcomes() -> None:
    warning = Finding("P04", Severity.WARNING, "Metas", "X6", None, "…")
    error = Finding("M01", Severity.ERROR, "Metas", "G6", None, "…")
    assert decide_validated([warning], duplicate_of=None).outcome is Outcome.ACCEPTED
    assert decide_validated([warning, error], duplicate_of=None).answer is Answer.CORRECTION
    assert decide_validated([error], duplicate_of=7).outcome is Outcome.DUPLICATE


def test_insiders_get_a_review_notice_outsiders_nothing() -> None:
    quarantined = Match("quarantined", "signals disagree")
    assert decide_unplaced(quarantined, insider=True, answer_outsiders=False).answer is Answer.REVIEW
    assert decide_unplaced(quarantined, insider=False, answer_outsiders=False).answer is None
    assert decide_unplaced(quarantined, insider=False, answer_outsiders=True).answer is Answer.REVIEW
    assert decide_unplaced(Match("rejected_sender", "x"), insider=False, answer_outsiders=False).outcome is (
        Outcome.REJECTED_SENDER
    )


def test_radicado_format() -> None:
    assert radicado(2027, "HAC", 3) == "PA-2027-HAC-0003"
