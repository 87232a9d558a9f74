"""Issue 19, item 4: the daemon loads only what its configuration uses. fpdf2 (~60 MB with fontTools), Authlib and
requests (~30 MB) and prometheus-client (~12 MB) stay out of a `poll --once` that answers a reply, unless
`export --pdf`, an OAuth2 token renewal or `metrics.listen` asks for them; rich (structlog) and numpy (openpyxl) stay
out of every command (`mailbot.imports`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.app import App
from mailbot.config import load_config
from mailbot.domain.context import AvailableBudget
from mailbot.services import campaign, outbox, setup
from tests.support.configs import SERVER_DEPENDENCIAS, server_config
from tests.support.mailservers import MailServers
from tests.support.plans import fill_plan, valid_metas
from tests.support.replies import parse, reply, workbook_of

pytestmark = pytest.mark.storage

#: `mailbot` itself, writing the names of the modules it holds when it exits to the file named by $LOADED.
ENTRY = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: open(os.environ['LOADED'], 'w').write('\\n'.join(sorted(sys.modules))))\n"
    "from mailbot.cli import main\n"
    "main()\n"
)
HEAVY = ("fpdf", "fontTools", "authlib", "requests", "prometheus_client", "rich", "numpy")


def test_poll_answers_a_reply_without_loading_what_is_not_configured(tmp_path: Path, mail: MailServers) -> None:
    config = server_config(tmp_path, mail)
    app = App(load_config(config, environ={}))
    setup.upgrade_storage(app)
    campaign.start(app, 2027)
    outbox.flush(app.sessions, app.senders, app.clock.now)
    (raw,) = mail.wait_for(SERVER_DEPENDENCIAS["HAC"], count=1, timeout=30)
    dep = app.config.dependencia("HAC")
    metas = valid_metas(3, AvailableBudget(dep.budget.poai, dep.budget.operating, dep.budget.cofinancing))
    mailing = parse(raw)
    answer_to = reply(
        mailing, sender=SERVER_DEPENDENCIAS["HAC"], attachments=[("Plan.xlsx", fill_plan(workbook_of(mailing), metas))]
    )
    mail.send(answer_to, SERVER_DEPENDENCIAS["HAC"], ["planeacion@municipio.test"])

    loaded_file = tmp_path / "loaded.txt"
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "--config", str(config), "--log-format", "json", "poll", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOADED": str(loaded_file)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decided = [json.loads(line) for line in done.stderr.splitlines() if '"message_decided"' in line]
    assert [event["outcome"] for event in decided] == ["accepted"], done.stderr  # the whole path ran
    loaded = set(loaded_file.read_text().split())
    # The modules that used to pull the heavy libraries in are there: the check sees what the daemon ran.
    for module in ("mailbot.services.daemon", "mailbot.services.metrics", "mailbot.adapters.oauth2"):
        assert module in loaded
    assert "mailbot.adapters.workbook.consolidated" in loaded
    assert "openpyxl" in loaded  # the reply's workbook was read
    assert [m for m in HEAVY if m in loaded] == []
