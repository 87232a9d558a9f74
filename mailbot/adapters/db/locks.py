"""Locks that let several processes on several machines share one PostgreSQL database safely.

- `serialize(session, names)`: transaction-scoped advisory locks (`pg_advisory_xact_lock`), taken in a fixed
  order so two workers can never deadlock on them, released by the commit or the rollback. Workers take them
  before reading what another worker may be writing at the same moment (the next version of a mailing, today's
  answers to a sender). On SQLite this is a no-op: `BEGIN IMMEDIATE` already serialises every writer.
- `AdvisoryLock`: a session-level advisory lock held on a dedicated connection for a process's life (the one
  active fetcher of a mailbox). It vanishes with the connection: when the holder dies, the server notices the
  closed socket and a standby's next `pg_try_advisory_lock` wins.

Keys are 64-bit integers derived from a name with SHA-256, stable across processes, hosts and versions.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mailbot.log import get_logger

log = get_logger("mailbot.locks")


def lock_key(name: str) -> int:
    """A signed 64-bit key for `name` (PostgreSQL's advisory lock space is bigint)."""
    return int.from_bytes(hashlib.sha256(f"mailbot:{name}".encode()).digest()[:8], "big", signed=True)


def is_postgresql(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def serialize(session: Session, names: Iterable[str]) -> None:
    """Hold transaction-scoped locks on `names` until the session's transaction ends (PostgreSQL only)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine | Connection) or not is_postgresql(bind):
        return
    keys = sorted({lock_key(name) for name in names})
    if keys:  # one round trip: PostgreSQL evaluates a target list left to right, so the order holds
        session.execute(select(*(func.pg_advisory_xact_lock(key) for key in keys)))


class AdvisoryLock:
    """One named session-level lock on its own connection: `try_acquire`, `held`, `release`.

    Thread-safe: the watcher thread and the scheduled jobs (which ask `held`) share one connection.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._connection: Connection | None = None
        self._mutex = threading.RLock()

    def try_acquire(self) -> bool:
        """True when this process now holds the lock (a connection problem counts as not acquired)."""
        with self._mutex:
            return self._try_acquire()

    def _try_acquire(self) -> bool:
        if self._connection is not None:
            return self.held()
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            log.warning("lock_unavailable", lock=self.name, error=str(exc).splitlines()[0][:300])
            return False
        try:
            won = bool(connection.execute(select(func.pg_try_advisory_lock(self.key))).scalar())
        except SQLAlchemyError as exc:
            log.warning("lock_unavailable", lock=self.name, error=str(exc).splitlines()[0][:300])
            connection.invalidate()
            connection.close()
            return False
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """Still ours? A dead connection means the server has already released the lock."""
        with self._mutex:
            if self._connection is None:
                return False
            try:
                self._connection.execute(select(1))
            except SQLAlchemyError:
                self._drop()
                return False
            return True

    def release(self) -> None:
        """Let go (closing the connection for good releases the lock even if the unlock fails)."""
        with self._mutex:
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()  # never back to the pool with the lock still held
            connection.close()
