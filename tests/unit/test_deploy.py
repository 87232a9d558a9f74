"""Issue 18, item 6: the deployment files agree with each other and with docs/DEPLOY.md (no Docker engine in CI:
the Dockerfile, .dockerignore, compose.yaml and the units are checked by reading them)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from mailbot.config import load_config
from tests.support.configs import EXAMPLE, ROOT

DEPLOY = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
UNITS = sorted((ROOT / "deploy").glob("*.service"))


def _ignored(path: str) -> bool:
    """Docker's rule for .dockerignore: the last pattern matching the path (or a folder above it) decides."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated, pattern = line.startswith("!"), line.lstrip("!").rstrip("/")
        pattern = pattern.removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p.rsplit("/", 1)[-1], pattern) for p in prefixes):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_of_a_deployment() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [
        source
        for line in re.findall(r"^COPY\s+(.+)$", dockerfile, flags=re.MULTILINE)
        for source in line.split()[:-1]
        if not source.startswith("--")
    ]
    assert sources, "no COPY in the Dockerfile?"
    for source in sources:
        assert not _ignored(source), f"the Dockerfile copies {source}, which .dockerignore leaves out"
    assert not _ignored("mailbot/cli/root.py")
    for private in (
        "storage/mailbot.db",
        "storage/archivo/x.eml",
        ".venv/bin/python",
        ".git/config",
        "config/mailbot.yaml",
        "mailbot/__pycache__/app.cpython-311.pyc",
        "tests/conftest.py",
    ):
        assert _ignored(private), private


def test_compose_runs_postgresql_one_fetcher_and_two_workers_on_one_archive() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["mailbot", "db", "upgrade"]
    assert services["fetcher"]["command"][-2:] == ["--role", "fetcher"]
    assert services["worker"]["command"][-2:] == ["--role", "worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("fetcher", "worker"):
        service = services[name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert "storage:/app/storage" in service["volumes"]  # one archive for every process
        assert "./config:/app/config:ro" in service["volumes"]
    url = services["fetcher"]["environment"]["MAILBOT_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://mailbot:")
    assert url.endswith("@db/mailbot")
    # The example configuration, as compose mounts it, takes the database from that variable.
    config = load_config(EXAMPLE, environ={"MAILBOT_DATABASE_URL": "postgresql+psycopg://mailbot:pw@db/mailbot"})
    assert config.storage.database_url == "postgresql+psycopg://mailbot:pw@db/mailbot"
    assert "compose.yaml" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_every_unit_runs_as_mailbot_in_its_state_directory(unit: Path) -> None:
    text = unit.read_text(encoding="utf-8")
    for line in (
        "User=mailbot",
        "StateDirectory=mailbot",
        "StateDirectoryMode=0700",
        "WorkingDirectory=/var/lib/mailbot",
        "Environment=MAILBOT_CONFIG=/etc/mailbot/mailbot.yaml",
        "EnvironmentFile=/etc/mailbot/secrets.env",
    ):
        assert f"\n{line}\n" in text, line
        assert line.split("=", 1)[1] in DEPLOY or line.startswith("User="), line
    assert "/opt/mailbot/venv/bin/mailbot " in text
    assert "/opt/mailbot/venv" in DEPLOY


def test_the_guide_covers_install_upgrade_backup_restore_and_retention() -> None:
    for needle in (
        "StateDirectory=",
        "uid and gid 10001",
        ".dockerignore",
        "compose.yaml",
        "mailbot db upgrade",
        "mailbot backup",
        "pg_dump",
        "pg_restore",
        "Restore",
        "public record",
        "mailbot health",
        "Type=notify",
        "WatchdogSec",
        "Python ≥ 3.11",
    ):
        assert needle in DEPLOY, needle


def test_the_pg_dump_line_takes_a_libpq_url_without_the_password() -> None:
    from mailbot.services.backup import libpq_url

    url = "postgresql+psycopg://mailbot:s3cr3t@db.example:5432/mailbot"
    assert libpq_url(url) == "postgresql://mailbot@db.example:5432/mailbot"
