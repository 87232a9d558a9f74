"""Engines and sessions, with SQLite set up to behave like a server database under concurrency.

SQLite: WAL so readers never block the writer, `busy_timeout` so a second writer waits instead of failing,
`foreign_keys` on, and every transaction opened with `BEGIN IMMEDIATE` (the driver's default deferred BEGIN
lets two processes read the same row and silently lose one update).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mailbot.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str, *, create: bool = True) -> Engine:
    """Create the engine for `url`, creating the SQLite file's folder (owner-only) when needed.

    `create=False` (every command but `db upgrade`): a SQLite file that is not there is refused, naming it, instead
    of being created empty by the first connection.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    database = parsed.database
    if database and database != ":memory:":
        folder = Path(database).parent
        if not create and not Path(database).is_file():
            raise StorageError(f"{database}: there is no database here yet: run `mailbot db upgrade`")
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StorageError(f"cannot create the database folder {folder}: {exc.strerror or exc}") from exc
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    if database and database != ":memory:":
        event.listen(engine, "first_connect", lambda *_: _restrict(Path(database)))
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event issues BEGIN IMMEDIATE itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _restrict(path: Path) -> None:
    """The database holds every plan and address: readable by the service user only."""
    if path.exists():
        path.chmod(0o600)


def database_label(url: str) -> str:
    """How messages name a database: a SQLite file's path, or the server URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
