"""A consistent copy of what mailbot keeps: the SQLite database (sqlite3's online backup) and the archive.

Order is what makes it consistent without stopping the daemon: the database is copied first, as one snapshot
(sqlite3's backup API copies a committed state even while the daemon writes), then the archive. The archive only
grows (files are written before the row that names them is committed, and never rewritten), so every file the
snapshot names is already there when the folder is copied; files that arrive in between are extra and harmless.
The copy is then checked against its own database: every received message, attachment and filed plan it names
must be in the copied archive with the SHA-256 it records.

PostgreSQL: the database is the server's to copy (`pg_dump`, before this command, same reasoning); this copies
the archive and says what to run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from mailbot import __version__
from mailbot.adapters.db import migrate
from mailbot.adapters.db.models import Attachment, ReceivedMessage, Submission
from mailbot.app import App
from mailbot.errors import StorageError

DATABASE_FILE = "mailbot.db"
ARCHIVE_FOLDER = "archivo"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database: Path | None  # None on PostgreSQL: `pg_dump` copies it
    files: int
    checked: int  # archive files named by the copied database, each found with its SHA-256
    pg_dump: str | None = None  # the command to run on PostgreSQL
    missing: list[str] = field(default_factory=list)


def backup(app: App, out: Path) -> BackupReport:
    """Copy the database (SQLite) and the archive into `out`, a new or empty folder, and check the copy."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StorageError(f"{out}: the backup folder must be new or empty")
    archive = app.config.storage.archive_dir.resolve()
    if out.resolve() == archive or archive in out.resolve().parents:
        raise StorageError(f"{out}: the backup folder cannot be inside the archive {archive}")
    url = app.config.storage.database_url
    app.engine  # noqa: B018 - refuses a missing or outdated database (naming it) before anything is written
    try:
        out.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"{out}: cannot create the backup folder: {exc.strerror or exc}") from exc

    source = app.config.storage.sqlite_file
    sqlite = source is not None
    database: Path | None = None
    if source is not None:
        database = out / DATABASE_FILE
        _copy_sqlite(source, database)
    files = _copy_archive(app.config.storage.archive_dir, out / ARCHIVE_FOLDER)
    checked, missing = _check(database, out / ARCHIVE_FOLDER) if database is not None else (0, [])
    pg_dump = None if sqlite else f"pg_dump --format=custom --file {out / 'mailbot.pgdump'} '{libpq_url(url)}'"
    manifest = {
        "mailbot": __version__,
        "schema": migrate.current_revision(app.engine),
        "created_at": app.clock.now().isoformat(timespec="seconds"),
        "database": DATABASE_FILE if sqlite else None,
        "archive": ARCHIVE_FOLDER,
        "archive_files": files,
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return BackupReport(out, database, files, checked, pg_dump, missing)


def libpq_url(url: str) -> str:
    """The URL as pg_dump and psql take it: no SQLAlchemy driver suffix, no password (PGPASSWORD or ~/.pgpass)."""
    parsed = make_url(url)
    bare = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return bare.render_as_string(hide_password=False)


def _copy_sqlite(source: Path, target: Path) -> None:
    """sqlite3's online backup: one committed state, whatever the daemon writes meanwhile (WAL included)."""
    try:
        with (
            contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
        target.chmod(0o600)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"{source}: cannot copy the database to {target}: {exc}") from exc


def _copy_archive(source: Path, target: Path) -> int:
    """Copy the archive, keeping the plans under planes/ as hard links to their content-addressed file (as the
    archive does), so the copy takes no more room than the original. Half-written temporary files are skipped."""
    if not source.is_dir():
        raise StorageError(f"{source}: the archive folder does not exist")
    seen: dict[tuple[int, int], Path] = {}
    count = 0
    try:
        for folder, subfolders, names in os.walk(source):
            subfolders.sort()
            here = Path(folder)
            destination = target / here.relative_to(source)
            destination.mkdir(mode=0o700, parents=True, exist_ok=True)
            for name in sorted(names):
                if name.startswith(".tmp-"):
                    continue
                original = here / name
                info = original.stat()
                copy = destination / name
                key = (info.st_dev, info.st_ino)
                if info.st_nlink > 1 and key in seen:
                    os.link(seen[key], copy)
                else:
                    shutil.copy2(original, copy)
                    seen[key] = copy
                count += 1
    except OSError as exc:
        raise StorageError(f"cannot copy the archive {source} to {target}: {exc}") from exc
    return count


def _check(database: Path, archive: Path) -> tuple[int, list[str]]:
    """Every file the copied database names, found in the copied archive with its recorded SHA-256."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            named = [
                *session.execute(select(ReceivedMessage.raw_path, ReceivedMessage.sha256)).all(),
                *session.execute(select(Attachment.archive_path, Attachment.sha256)).all(),
                *session.execute(
                    select(Submission.filed_as, Attachment.sha256)
                    .join(Attachment, Submission.attachment_id == Attachment.id)
                    .where(Submission.filed_as.is_not(None))
                ).all(),
            ]
    finally:
        engine.dispose()
    missing = [str(path) for path, digest in named if not _holds(archive / str(path), digest)]
    return len(named) - len(missing), missing


def _holds(path: Path, digest: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False
