"""E-mail addresses as mailbot compares them.

The domain core allows pure, I/O-free libraries: email-validator's syntax check (no DNS lookup here) is one.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalize_address(value: str) -> str:
    """Return the address in the form used for every comparison (lower case, IDNA-decoded).

    Raises ValueError with an English explanation when the text is not one e-mail address.
    `test_environment=True` admits the reserved `.test` domains that the test servers use.
    """
    text = value.strip()
    try:
        info = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address ({exc})") from None
    return info.normalized.lower()


def is_valid_address(value: str) -> bool:
    """True when `value` is one syntactically valid e-mail address."""
    try:
        normalize_address(value)
    except ValueError:
        return False
    return True


def domain_of(address: str) -> str:
    """The part after the last '@', lower case."""
    return address.rsplit("@", 1)[-1].lower()
