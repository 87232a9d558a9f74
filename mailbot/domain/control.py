"""The `_control` block: which mailing a workbook answers, signed so that a copy or an edit shows.

HMAC-SHA256 over the other fields in a fixed order, keyed with the configured secret. A reply can then be matched
by its attachment alone (forwards, new threads, another sender), and a hand-edited or copied block fails.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from mailbot.domain.workbook_format import FORMAT_CODE, FORMAT_VERSION, ControlField

SIGNED_FIELDS = (
    ControlField.FORMATO,
    ControlField.VERSION_FORMATO,
    ControlField.RONDA,
    ControlField.VIGENCIA,
    ControlField.CODIGO_DEPENDENCIA,
    ControlField.TOKEN,
)


@dataclass(frozen=True)
class ControlBlock:
    ronda: str
    vigencia: int
    dependencia: str
    token: str
    formato: str = FORMAT_CODE
    version_formato: int = FORMAT_VERSION

    def values(self) -> dict[str, str]:
        """Field → text, in SIGNED_FIELDS order, without the signature."""
        return {
            ControlField.FORMATO: self.formato,
            ControlField.VERSION_FORMATO: str(self.version_formato),
            ControlField.RONDA: self.ronda,
            ControlField.VIGENCIA: str(self.vigencia),
            ControlField.CODIGO_DEPENDENCIA: self.dependencia,
            ControlField.TOKEN: self.token,
        }

    def signed(self, secret: str) -> dict[str, str]:
        values = self.values()
        return {**values, ControlField.FIRMA: sign(values, secret)}


def sign(values: Mapping[str, str], secret: str) -> str:
    message = "\n".join(f"{f.value}={str(values.get(f.value, '')).strip()}" for f in SIGNED_FIELDS)
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(values: Mapping[str, str], secret: str) -> bool:
    """True when `firma` matches the other fields (as read back from a workbook)."""
    given = str(values.get(ControlField.FIRMA, "")).strip().lower()
    return bool(given) and hmac.compare_digest(given, sign(values, secret))


def parse(values: Mapping[str, str]) -> ControlBlock | None:
    """The block as typed fields, or None when a field is missing or malformed."""
    try:
        return ControlBlock(
            formato=str(values[ControlField.FORMATO]).strip(),
            version_formato=int(str(values[ControlField.VERSION_FORMATO]).strip()),
            ronda=str(values[ControlField.RONDA]).strip(),
            vigencia=int(str(values[ControlField.VIGENCIA]).strip()),
            dependencia=str(values[ControlField.CODIGO_DEPENDENCIA]).strip().upper(),
            token=str(values[ControlField.TOKEN]).strip(),
        )
    except (KeyError, ValueError):
        return None
