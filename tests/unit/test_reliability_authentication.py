"""DMARC/SPF verdicts from Authentication-Results: only the configured receiving servers are believed."""

from __future__ import annotations

import pytest

from mailbot.domain.authentication import forged_reason, parse

TRUSTED = ["mx.municipio.test"]


def test_parse_reads_the_authserv_id_and_the_dmarc_and_spf_results_ignoring_comments() -> None:
    header = (
        "MX.municipio.test 1; spf=pass (sender IP is 10.0.0.1; dmarc=fail in a comment) smtp.mailfrom=a.test;\r\n"
        "\tdkim=pass header.d=a.test; dmarc=fail (p=reject) header.from=municipio.test"
    )
    found = {(r.authserv_id, r.method, r.result) for r in parse(header)}
    assert found == {("mx.municipio.test", "spf", "pass"), ("mx.municipio.test", "dmarc", "fail")}


@pytest.mark.parametrize(
    "headers",
    [
        ["mx.municipio.test; dmarc=fail (p=reject) header.from=municipio.test"],
        ["mx.municipio.test; spf=fail smtp.mailfrom=municipio.test"],
        ["attacker.test; dmarc=pass", "mx.municipio.test; dmarc=fail header.from=municipio.test"],
    ],
)
def test_a_failure_reported_by_a_trusted_server_is_a_forgery(headers: list[str]) -> None:
    reason = forged_reason(headers, TRUSTED)
    assert reason is not None
    assert "mx.municipio.test" in reason


@pytest.mark.parametrize(
    ("headers", "trusted"),
    [
        (["attacker.test; dmarc=fail; spf=fail"], TRUSTED),  # anyone can write the header: untrusted is ignored
        (["mx.municipio.test; dmarc=fail"], []),  # nothing configured: nothing trusted
        (["mx.municipio.test; spf=fail; dkim=pass; dmarc=pass"], TRUSTED),  # forwarded: DMARC passes via DKIM
        (["mx.municipio.test; spf=softfail"], TRUSTED),
        (["mx.municipio.test; none"], TRUSTED),
        ([], TRUSTED),
        ([""], TRUSTED),
        (["mx.municipio.test.attacker.test; dmarc=fail"], TRUSTED),  # the id must match exactly
    ],
)
def test_nothing_trusted_fails_means_no_verdict(headers: list[str], trusted: list[str]) -> None:
    assert forged_reason(headers, trusted) is None
