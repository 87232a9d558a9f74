"""Issue 18: `mailbot backup OUT` restored into a fresh folder shows the same state and every submission (item 6);
on the same populated database, the listings' times are the municipality's, with the offset (item 5)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailbot.adapters.db.models import Attachment, Submission
from mailbot.app import App
from mailbot.cli import EXIT_STORAGE, cli
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.services import campaign, outbox, setup
from mailbot.services.daemon import Watcher
from tests.support.configs import example_data, write_config
from tests.support.fakes import FakeMailServer, FakeSmtpServer, FixedClock
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = pytest.mark.sqlite_only  # the PostgreSQL database is pg_dump's to copy (docs/DEPLOY.md)

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/Bogota"))
CODES = ("HAC", "EDU")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _two_accepted_plans(config_path: Path) -> None:
    """Formulación mailed to two dependencias (fake mail servers, the real archive folder), both plans accepted."""
    inbox, smtp = FakeMailServer(), FakeSmtpServer()
    app = App(load_config(config_path), clock=FixedClock(START), mailboxes=inbox.mailbox, senders=smtp.sender)
    setup.upgrade_storage(app)
    campaign.start(app, 2027)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    for code in CODES:
        address = app.config.dependencia(code).addresses[0]
        mailing = parse(smtp.to(address)[0])
        dep = app.config.dependencia(code)
        budget = AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing)
        plan = fill_plan(workbook_of(mailing), valid_metas(3, budget, dependencia=code))
        inbox.deliver(reply(mailing, sender=address, attachments=[(f"Plan {code}.xlsx", plan)]), received=START)
    watcher = Watcher(app, threading.Event())
    try:
        assert dict(watcher.once().outcomes) == {"accepted": len(CODES)}
    finally:
        watcher.close()
    app.close()


DEPENDENCIAS = [d for d in example_data()["dependencias"] if d["code"] in CODES]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The configuration of a database with two accepted plans (built once for this module's tests)."""
    path = write_config(tmp_path_factory.mktemp("live"), {"dependencias": DEPENDENCIAS})
    _two_accepted_plans(path)
    return path


def test_listings_show_the_municipality_time_with_its_offset(live: Path) -> None:
    """Stored in UTC, shown in America/Bogota: the 9:00 reply is 09:00:00-05:00, in JSON and in text."""
    code, out, _ = run("--config", str(live), "messages", "--json")
    assert code == 0
    assert {row["received_at"] for row in json.loads(out)} == {START.isoformat()}
    code, out, _ = run("--config", str(live), "messages")
    assert code == 0
    assert all(" 2026-12-01 09:00:00-05:00 " in line for line in out.splitlines()), out
    status = json.loads(run("--config", str(live), "status", "--json")[1])
    moments = [r[key] for d in status["dependencias"] for r in d["rounds"] for key in ("mailed_at", "last_activity")]
    assert moments == [START.isoformat()] * 4
    assert "last activity 2026-12-01 09:00:00-05:00" in run("--config", str(live), "status")[1]
    sent = [row["sent_at"] for row in json.loads(run("--config", str(live), "outbox", "list", "--json")[1])]
    assert sent == [START.isoformat()] * 4


def test_a_backup_restored_into_a_fresh_folder_shows_the_same_state(tmp_path: Path, live: Path) -> None:
    original, dependencias = live, DEPENDENCIAS

    code, out, err = run("--config", str(original), "backup", str(tmp_path / "copia"))
    assert code == 0, out + err
    assert "checked: the 6 files the database names are in the copy, SHA-256 verified" in out, out
    manifest = json.loads((tmp_path / "copia" / "manifest.json").read_text("utf-8"))
    assert manifest["database"] == "mailbot.db"

    # Restore as docs/DEPLOY.md says: the database file and the archive folder where a fresh configuration points.
    (tmp_path / "restored").mkdir()
    restored = write_config(tmp_path / "restored", {"dependencias": dependencias})
    storage = load_config(restored).storage
    Path(storage.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    shutil.copy2(tmp_path / "copia" / "mailbot.db", storage.database_url.removeprefix("sqlite:///"))
    shutil.copytree(tmp_path / "copia" / "archivo", storage.archive_dir)

    before = run("--config", str(original), "status", "--json")
    after = run("--config", str(restored), "status", "--json")
    assert after == before
    states = [r["state"] for d in json.loads(after[1])["dependencias"] for r in d["rounds"]]
    assert states == ["accepted"] * len(CODES)

    app = App(load_config(restored))
    with app.sessions() as session:
        rows = session.execute(select(Submission, Attachment).join(Attachment)).all()
    app.close()
    assert len(rows) == len(CODES)
    for submission, attachment in rows:  # every submission's workbook, as received and as filed under planes/
        for relative in (attachment.archive_path, submission.filed_as):
            data = (storage.archive_dir / str(relative)).read_bytes()
            assert hashlib.sha256(data).hexdigest() == attachment.sha256


def test_a_backup_refuses_a_folder_in_use_and_a_missing_database(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code, _, err = run("--config", str(path), "backup", str(tmp_path / "copia"))
    assert code == EXIT_STORAGE
    assert "run `mailbot db upgrade`" in err
    assert not (tmp_path / "copia").exists()
    assert run("--config", str(path), "db", "upgrade")[0] == 0
    (tmp_path / "usada").mkdir()
    (tmp_path / "usada" / "algo.txt").write_text("x", encoding="utf-8")
    code, _, err = run("--config", str(path), "backup", str(tmp_path / "usada"))
    assert code == EXIT_STORAGE
    assert err == f"mailbot: {tmp_path / 'usada'}: the backup folder must be new or empty\n"
    inside = tmp_path / "state" / "archivo" / "copia"  # would copy itself
    code, _, err = run("--config", str(path), "backup", str(inside))
    assert code == EXIT_STORAGE
    assert err.startswith(f"mailbot: {inside}: the backup folder cannot be inside the archive ")
    assert not inside.exists()
