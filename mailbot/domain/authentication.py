"""Whether the receiving server says a message's From is forged: DMARC/SPF from trusted Authentication-Results.

Anyone can write an `Authentication-Results` header into a message, so only headers whose authserv-id (the first
token, RFC 8601 section 2.2) is in `sender_policy.trusted_authserv_ids` count: the municipality's own receiving
servers, which remove headers carrying their own id from incoming mail (RFC 8601 section 5). Every other header
is ignored, whatever it says. Among the trusted headers a DMARC result decides when there is one (a DMARC pass
through DKIM outweighs an SPF failure caused by forwarding); without one, an SPF `fail` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"(?:^|[\s;])(dmarc|spf)\s*=\s*([a-z]+)", re.IGNORECASE)
_FAILING = frozenset({"fail"})


@dataclass(frozen=True)
class AuthResult:
    authserv_id: str
    method: str  # "dmarc" or "spf"
    result: str  # "pass", "fail", "softfail", "none", ...


def parse(header: str) -> list[AuthResult]:
    """The DMARC and SPF results of one Authentication-Results value (comments removed, unknown parts ignored)."""
    text = " ".join(header.split())  # unfold
    for _ in range(3):  # comments may nest a little
        text = _COMMENT.sub(" ", text)
    head, _, rest = text.partition(";")
    fields = head.split()
    if not fields:
        return []
    authserv_id = fields[0].lower()
    return [AuthResult(authserv_id, m.group(1).lower(), m.group(2).lower()) for m in _RESULT.finditer(";" + rest)]


def forged_reason(headers: Iterable[str], trusted_authserv_ids: Iterable[str]) -> str | None:
    """Why the trusted receiving server says the From is not authentic, or None (no failure, or nothing trusted)."""
    trusted = {t.strip().lower() for t in trusted_authserv_ids if t.strip()}
    if not trusted:
        return None
    results = [r for header in headers for r in parse(header) if r.authserv_id in trusted]
    dmarc = [r for r in results if r.method == "dmarc"]
    if dmarc:
        failed = next((r for r in dmarc if r.result in _FAILING), None)
        if failed is None:
            return None
        return f"the receiving server {failed.authserv_id} reports dmarc={failed.result} for the From address"
    spf = next((r for r in results if r.method == "spf" and r.result in _FAILING), None)
    if spf is not None:
        return f"the receiving server {spf.authserv_id} reports spf={spf.result} for the sender"
    return None
