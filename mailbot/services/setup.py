"""Set-up use cases: check a configuration against the machine, create or upgrade the storage."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from mailbot.adapters import mail_templates
from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import database_label, make_engine
from mailbot.adapters.workbook.writer import instruction_text
from mailbot.app import App
from mailbot.config import MailbotConfig, secret_problems
from mailbot.errors import StorageError
from mailbot.services import mail_samples

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def extend(self, other: CheckReport) -> None:
        self.problems.extend(other.problems)
        self.warnings.extend(other.warnings)


def check_configuration(config: MailbotConfig) -> CheckReport:
    """What schema validation cannot see: files that must exist, folders that must be writable, risks."""
    report = CheckReport()
    plan = config.development_plan
    for label, path in (
        ("development_plan.catalogue", plan.catalogue),
        ("development_plan.projects", plan.projects),
    ):
        if path is not None and not path.is_file():
            report.problems.append(f"{label}: file {path} does not exist")
    try:
        instruction_text(config.smtp.templates_dir)  # ops' copy of the workbook's instructions, when they made one
    except ValueError as exc:
        report.problems.append(f"smtp.templates_dir: {exc}")

    archive = config.storage.archive_dir
    if not _can_create_or_write(archive):
        report.problems.append(f"storage.archive_dir: {archive} cannot be created or written by this user")
    database = config.storage.sqlite_file
    if database is not None and not _can_create_or_write(database.parent):
        report.problems.append(f"storage.database_url: folder of {database} is not writable")

    report.problems.extend(check_templates(config))
    report.problems.extend(secret_problems(config))
    if config.municipality.test_domains:
        report.warnings.append("municipality.test_domains is on: addresses under .test pass; for test servers only")
    for section in (config.imap, config.smtp):
        name = "imap" if section is config.imap else "smtp"
        if section.security == "none" and section.host not in _LOOPBACK:
            report.warnings.append(f"{name}.security is 'none' for {section.host}: passwords travel in clear")
    report.extend(check_oauth2(config))
    owners = Counter(a for d in config.dependencias for a in d.addresses)
    for address, count in sorted(owners.items()):
        if count > 1:
            report.warnings.append(
                f"{address} is registered for {count} dependencias: its replies match only by attachment"
            )
    return report


def check_oauth2(config: MailbotConfig) -> CheckReport:
    """The OAuth2 token store must be writable (rotated tokens are kept there) and hold a token, or be seeded."""
    report = CheckReport()
    oauth2 = config.oauth2
    if oauth2 is None:
        return report
    if not _can_create_or_write(oauth2.token_store.parent):
        report.problems.append(f"oauth2.token_store: folder of {oauth2.token_store} is not writable")
    seeded = oauth2.refresh_token is not None and oauth2.refresh_token.get_secret_value()
    if not seeded and not oauth2.token_store.exists():
        report.warnings.append(
            "oauth2: no refresh token yet: run `mailbot auth login` once (or set oauth2.refresh_token)"
        )
    return report


def check_templates(config: MailbotConfig) -> list[str]:
    """Render every mail template (the shipped ones under the `smtp.templates_dir` overrides) with realistic samples
    for every round: a mistake in an override is found here, with its file and line, not on a secretario's reply."""
    override = config.smtp.templates_dir
    if override is not None and not override.is_dir():
        return [f"smtp.templates_dir: folder {override} does not exist"]
    return [
        f"smtp.templates_dir: {problem}" if override is not None else f"templates: {problem}"
        for problem in mail_templates.check(override, lambda name: mail_samples.contexts(config, name))
    ]


def _can_create_or_write(folder: Path) -> bool:
    """True when `folder` exists and is writable, or its nearest existing parent is."""
    probe = folder.resolve()
    while not probe.exists():
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None
    after: str | None
    archive_dir: Path

    @property
    def changed(self) -> bool:
        return self.before != self.after


def upgrade_storage(app: App) -> UpgradeResult:
    """Bring the schema to the newest migration and create the archive folder (owner-only)."""
    archive = app.config.storage.archive_dir
    try:
        archive.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create the archive folder {archive}: {exc.strerror or exc}") from exc
    url = app.config.storage.database_url
    engine = make_engine(url)
    try:
        before, after = migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"{database_label(url)}: cannot upgrade the database: {migrate.describe(exc)}") from exc
    finally:
        engine.dispose()
    return UpgradeResult(before=before, after=after, archive_dir=archive)
