"""Test configurations derived from the shipped example, so the example stays a tested fixture."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mailbot.example.yaml"
TEST_SECRET = "test-secret-0123456789abcdef"
TEST_PASSWORD = "test-password"  # the example's ${MAILBOT_*_PASSWORD:-} would be empty
#: `MAILBOT_TEST_DATABASE=postgresql` points every test configuration at a fresh PostgreSQL database of the
#: session's server (tests/support/postgres.py); unset or `sqlite`, at a SQLite file in the test's folder.
DATABASE_ENV = "MAILBOT_TEST_DATABASE"


def storage_engine() -> str:
    """The engine this test run uses for storage: "sqlite" (the default) or "postgresql"."""
    value = os.environ.get(DATABASE_ENV, "sqlite").strip().lower() or "sqlite"
    if value not in ("sqlite", "postgresql"):
        raise ValueError(f"{DATABASE_ENV}={value!r}: expected sqlite or postgresql")
    return value


#: The PostgreSQL database of each test folder, so that a second configuration written in the same folder (a
#: restart with other settings) finds the first one's database, as it finds the same SQLite file.
_POSTGRES_BY_FOLDER: dict[Path, str] = {}


def database_url(folder: Path) -> str:
    """The database of one test folder, empty when first asked for: a SQLite file in `folder`, or a new database of
    the session's server."""
    if storage_engine() == "sqlite":
        return f"sqlite:///{folder / 'state' / 'mailbot.db'}"
    import pytest

    from tests.support import postgres

    reason = postgres.unavailable()
    if reason is not None:
        pytest.skip(reason)
    key = folder.resolve()
    if key not in _POSTGRES_BY_FOLDER:
        _POSTGRES_BY_FOLDER[key] = postgres.session_server().new_database()
    return _POSTGRES_BY_FOLDER[key]


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` into a copy of `base`; a value of None in changes deletes the key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(folder: Path, changes: dict[str, Any] | None = None) -> Path:
    """The example with storage inside `folder`, a test secret, and `changes` merged in."""
    data = merge(
        example_data(),
        {
            "storage": {
                "database_url": database_url(folder),
                "archive_dir": str(folder / "state" / "archivo"),
            },
            "signing": {"secret": TEST_SECRET},
            "imap": {"password": TEST_PASSWORD},
            "smtp": {"password": TEST_PASSWORD},
            "municipality": {"test_domains": True},  # the test servers' municipio.test and externo.test
        },
    )
    data = merge(data, changes or {})
    path = folder / "mailbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


#: The test municipality's dependencias, each answered by a mailbox of the test servers.
SERVER_DEPENDENCIAS = {
    "HAC": "hacienda@municipio.test",
    "EDU": "educacion@municipio.test",
    "SAL": "salud@municipio.test",
    "GOB": "gobierno@municipio.test",
}


def server_config(folder: Path, servers: Any, changes: dict[str, Any] | None = None) -> Path:
    """The example pointed at the loopback Dovecot and Postfix, with four dependencias mapped to test mailboxes."""
    base = {d["code"]: d for d in example_data()["dependencias"]}
    dependencias = [{**base[code], "addresses": [address]} for code, address in SERVER_DEPENDENCIAS.items()]
    data: dict[str, Any] = {
        "municipality": {"domains": ["municipio.test"]},
        "imap": {
            "host": servers.host,
            "port": servers.imap_port,
            "security": "none",
            "user": "planeacion@municipio.test",
            "password": servers.password,
            "timeout": 10,
        },
        "smtp": {
            "host": servers.host,
            "port": servers.smtp_port,
            "security": "none",
            "user": None,
            "password": None,
            "from_address": "planeacion@municipio.test",
            "message_id_domain": "municipio.test",
            "timeout": 10,
        },
        "dependencias": dependencias,
        "digest": {"recipients": ["planeacion@municipio.test"]},
    }
    return write_config(folder, merge(data, changes or {}))


def hosting_changes(servers: Any, *, imap: str = "ssl", smtp: str = "starttls") -> dict[str, Any]:
    """`server_config` changes that reach the hosting-like servers (tests/conftest.py) as a provider is reached:
    IMAP over TLS (`ssl`: IMAPS; `starttls`) at the address where LOGIN before TLS is refused, SMTP submission with
    AUTH (`starttls`: the submission port; `ssl`: SMTPS), every certificate verified against the tests' CA."""
    return {
        "imap": {
            "host": servers.secure_address,
            "port": servers.imaps_port if imap == "ssl" else servers.imap_port,
            "security": imap,
            "ca_file": str(servers.ca_file),
        },
        "smtp": {
            "host": servers.host,
            "port": servers.smtps_port if smtp == "ssl" else servers.submission_port,
            "security": smtp,
            "user": "planeacion@municipio.test",
            "password": servers.password,
            "ca_file": str(servers.ca_file),
        },
    }
