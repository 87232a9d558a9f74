"""E-mail addresses as mailbot compares them.

The domain core allows pure, I/O-free libraries: email-validator's syntax check (no DNS lookup here) is one.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class _Policy:
    """Whether this process accepts the reserved `.test` top-level domain; off unless a test configuration asks."""

    test_domains = False


def allow_test_domains() -> None:
    """Accept addresses under `.test` (RFC 6761's top-level domain for testing) from now on, in this process.

    Why this narrow: email-validator refuses every special-use name (`.test`, `.local`, `.invalid`, ...) by
    default, which is right for real mail. The test servers on loopback need `.test` and nothing else, so only a
    configuration that says `municipality.test_domains: true` (written by the tests, never by an installation)
    switches it on (`config.load_config`), and only for `.test`: the library's `test_environment` flag admits
    exactly that name and leaves every other check in place. The switch lives for the process because the same
    address is parsed far from the configuration (incoming headers in `adapters/mime.py`).
    """
    _Policy.test_domains = True


def normalize_address(value: str) -> str:
    """Return the address in the form used for every comparison (lower case, IDNA-decoded).

    Raises ValueError with an English explanation when the text is not one e-mail address; a special-use domain
    such as `.test` is refused unless `allow_test_domains()` was called.
    """
    normalized, problem = _checked(value.strip(), _Policy.test_domains)
    if problem is not None:
        raise ValueError(f"not a valid e-mail address ({problem})")
    return normalized


@lru_cache(maxsize=4096)
def _checked(text: str, test_domains: bool) -> tuple[str, str | None]:
    """email-validator's verdict, remembered: a plan repeats its responsables' addresses on every row, and a
    backlog repeats them in every reply (each check costs about a quarter of a millisecond)."""
    try:
        info = validate_email(text, check_deliverability=False, test_environment=test_domains)
    except EmailNotValidError as exc:
        return "", str(exc)
    return info.normalized.lower(), None


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
