"""The PostgreSQL locks that several processes rely on: the fetcher's advisory lock and the workers' claims."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from mailbot.adapters.db import migrate
from mailbot.adapters.db.engine import make_engine, make_session_factory
from mailbot.adapters.db.locks import AdvisoryLock, lock_key, serialize
from mailbot.adapters.db.models import OutboxMail
from mailbot.app import App
from mailbot.config import load_config
from mailbot.services import daemon, outbox, setup
from tests.support.configs import database_url, storage_engine, write_config

pytestmark = pytest.mark.storage


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    if storage_engine() != "postgresql":
        pytest.skip("PostgreSQL locks: runs in the PostgreSQL pass of scripts/test.sh")
    engine = make_engine(database_url(tmp_path))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


#: The documented algorithm by hand: the first 8 bytes of SHA-256("mailbot:" + name), big-endian, signed.
#: `printf '%s' 'mailbot:mailing:7' | sha256sum` starts dd367d71ebcf102e, which is 0xdd36… - 2**64 as a signed int.
KNOWN_KEYS = {
    "fetcher:a@b:993/INBOX": -2370094876819004382,  # df1bbb444f3ae422
    "mailing:7": -2506678214344110034,  # dd367d71ebcf102e
    "x": 4378606009177775461,  # 3cc3eef76c6e9d65
}


def test_lock_keys_are_the_documented_sha256_values() -> None:
    """Pinned values: a salted `hash()` or a changed derivation would split two versions' workers on one lock."""
    assert {name: lock_key(name) for name in KNOWN_KEYS} == KNOWN_KEYS
    assert lock_key("fetcher:a@b:993/INBOX") != lock_key("fetcher:a@b:993/Otra")


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_lock_keys_are_the_same_in_another_process_with_another_hash_seed(seed: str) -> None:
    """Two processes (two machines) must compute one key for one name, whatever their PYTHONHASHSEED."""
    program = (
        "import json, sys; from mailbot.adapters.db.locks import lock_key; "
        "print(json.dumps({n: lock_key(n) for n in sys.argv[1:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, *KNOWN_KEYS],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": seed},
        check=True,
    )
    assert json.loads(done.stdout) == KNOWN_KEYS


def test_one_fetcher_holds_the_mailbox_and_another_takes_over_when_its_connection_dies(engine: Engine) -> None:
    first, second = AdvisoryLock(engine, "fetcher:test"), AdvisoryLock(engine, "fetcher:test")
    assert first.try_acquire()
    assert not second.try_acquire(), "two active fetchers for one mailbox"
    with engine.connect() as admin:  # the holder's backend dies, as when its process is killed
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    assert second.try_acquire(), "the lock did not vanish with its connection"
    assert not first.held(), "a fetcher whose connection died must know it lost the mailbox"
    second.release()
    assert first.try_acquire(), "released for good"
    first.release()


def test_serialize_holds_its_locks_until_the_transaction_ends(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    key = lock_key("mailing:7")
    with sessions.begin() as holder:
        serialize(holder, ["sender:a@b", "mailing:7"])
        with sessions.begin() as other:
            assert other.scalar(select(func.pg_try_advisory_xact_lock(key))) is False
    with sessions.begin() as after:
        assert after.scalar(select(func.pg_try_advisory_xact_lock(key))) is True


def _pending(session: Session, n: int) -> None:
    now = dt.datetime.now(dt.UTC)
    for i in range(n):
        outbox.enqueue(
            session,
            dedup_key=f"k{i}",
            kind="test",
            raw=b"x",
            message_id=f"<m{i}@test>",
            envelope_from="a@b.test",
            recipients=["c@d.test"],
            now=now - dt.timedelta(seconds=1),
        )


def test_an_outbox_row_being_claimed_is_skipped_not_waited_for(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        _pending(session, 2)
    with sessions.begin() as holder:
        held = holder.scalars(
            select(OutboxMail).order_by(OutboxMail.id).limit(1).with_for_update(skip_locked=True)
        ).one()
        claimed = outbox._claim_next(sessions, dt.datetime.now(dt.UTC))  # another flush, meanwhile
        assert claimed is not None
        assert claimed.id != held.id, "a locked row was claimed twice"
        assert outbox._claim_next(sessions, dt.datetime.now(dt.UTC)) is None, "the only free row is taken"


def test_scheduled_jobs_run_only_in_the_fetcher_that_holds_the_mailbox(tmp_path: Path) -> None:
    """The digest and the reminders are queued by the active fetcher alone; a standby's copy of the job skips."""
    if storage_engine() != "postgresql":
        pytest.skip("PostgreSQL locks: runs in the PostgreSQL pass of scripts/test.sh")
    app = App(load_config(write_config(tmp_path), environ={}))
    setup.upgrade_storage(app)  # every command but `db upgrade` refuses a database that is not at the head
    ran: list[str] = []
    active = daemon.Watcher(app, threading.Event(), work=False, lock=daemon.fetcher_lock(app))
    standby = daemon.Watcher(app, threading.Event(), work=False, lock=daemon.fetcher_lock(app))
    try:
        assert active.lock is not None
        assert active.lock.try_acquire()
        daemon._then_flush(lambda _: ran.append("active"), app, active)
        daemon._then_flush(lambda _: ran.append("standby"), app, standby)
    finally:
        active.close()
        if active.lock is not None:
            active.lock.release()
        app.close()
    assert ran == ["active"]


def test_two_machines_upgrading_at_once_take_turns(tmp_path: Path) -> None:
    """`ExecStartPre=mailbot db upgrade` in every unit: concurrent upgrades of an empty database both succeed."""
    if storage_engine() != "postgresql":
        pytest.skip("PostgreSQL locks: runs in the PostgreSQL pass of scripts/test.sh")
    url = database_url(tmp_path)
    results: list[tuple[str | None, str | None]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        engine = make_engine(url)
        try:
            results.append(migrate.upgrade(engine))
        except BaseException as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    head = migrate.head_revision(make_engine(url))
    assert sorted(results, key=str) == sorted([(None, head), (head, head), (head, head)], key=str)
