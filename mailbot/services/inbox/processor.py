"""`InboxProcessor`: the coordinator of one mailbox's pass, in the order of the steps it calls."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mailbot.app import App
from mailbot.faults import failpoint
from mailbot.log import get_logger
from mailbot.ports import FolderState, Mailbox
from mailbot.services.inbox import directory, fetcher, filing, worker
from mailbot.services.inbox.common import Inbox

log = get_logger("mailbot.inbox")
#: Decided messages between two after-commit rounds of a long pass (moves, and the caller's `between`, e.g. a
#: flush): answers leave and mail is moved while a backlog is worked through, in this thread.
ROUND_EVERY = 25


@dataclass
class PassReport:
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    moved: int = 0

    def summary(self) -> str:
        done = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "nothing new"
        return f"{self.fetched} fetched: {done}; {self.moved} moved"


class InboxProcessor:
    """One mailbox (configuration's imap section); one instance per daemon."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox = Inbox.of(app)

    def run_pass(
        self,
        mailbox: Mailbox,
        stop: threading.Event | None = None,
        *,
        work: bool = True,
        between: Callable[[], None] | None = None,
    ) -> PassReport:
        """The fetcher's pass over every new message; with `work` (role `all`) each one is decided at once.

        Every ROUND_EVERY decided messages the decided ones are moved and `between` is called. With `stop` set,
        return after the message in hand.
        """
        report = PassReport()
        report.moved += self.move_decided(mailbox)  # what earlier passes or other workers left behind
        self._pass(mailbox, report, stop, work, between)
        # This pass's decisions since its last round, one UID MOVE of a set per folder (a failed pass leaves them to
        # the next one); a fetcher that decides nothing itself moves what the workers decided meanwhile.
        if not work or report.outcomes.total() % ROUND_EVERY:
            report.moved += self.move_decided(mailbox)
        if report.fetched or report.outcomes:
            log.info("inbox_pass", fetched=report.fetched, **dict(report.outcomes.items()), moved=report.moved)
        return report

    def _pass(
        self,
        mailbox: Mailbox,
        report: PassReport,
        stop: threading.Event | None,
        work: bool,
        between: Callable[[], None] | None,
    ) -> None:
        def decided(outcome: str) -> None:
            report.outcomes[outcome] += 1
            if report.outcomes.total() % ROUND_EVERY == 0:
                # work_one filed each plan already; the filing sweep (for failures) stays once per pass
                report.moved += fetcher.move_decided(self.inbox, mailbox)
                if between is not None:
                    between()

        if work:  # rows left without an outcome by a crash or a storage fault: decide them first, a round at a time
            while batch := self.work_pending(stop, limit=ROUND_EVERY):
                for _, outcome in batch:
                    decided(outcome)
        state = mailbox.state(self.inbox.folder)
        last_uid = self.checkpoint(state, mailbox)
        uids = mailbox.uids_after(self.inbox.folder, last_uid)
        known = directory.load(self.app) if work and uids else None
        with tempfile.TemporaryDirectory(prefix="mailbot-fetch-") as spool:
            for uid, path in mailbox.fetch_files(self.inbox.folder, uids, Path(spool)):
                failpoint("after_fetch")
                report.fetched += 1
                row_id, parsed = fetcher.record_file(self.inbox, uid, state.uidvalidity, path)
                path.unlink()
                failpoint("after_archive")
                if known is not None:
                    done = worker.work_one(self.inbox, known, row_id=row_id, parsed=parsed)
                    decided(done[1] if done else fetcher.outcome_of(self.inbox, row_id))
                if stop is not None and stop.is_set():
                    return
        if uids:
            self.advance(state.uidvalidity, max(uids))  # UIDs that vanished before the fetch count as seen

    def move_decided(self, mailbox: Mailbox) -> int:
        """After-commit effects of decisions made earlier (by any worker): file every plan not yet filed, then move
        every decided message not yet moved."""
        filing.file_pending(self.app)
        return fetcher.move_decided(self.inbox, mailbox)

    def unfinished(self) -> int:
        return fetcher.unfinished(self.inbox)

    def checkpoint(self, state: FolderState, mailbox: Mailbox | None = None) -> int:
        return fetcher.checkpoint(self.inbox, state, mailbox)

    def advance(self, uidvalidity: int, uid: int) -> None:
        fetcher.advance(self.inbox, uidvalidity, uid)

    def record(self, uid: int, uidvalidity: int, raw: bytes) -> int:
        return fetcher.record(self.inbox, uid, uidvalidity, raw)

    def work_pending(self, stop: threading.Event | None = None, limit: int | None = None) -> list[tuple[int, str]]:
        return worker.work_pending(self.inbox, stop, limit)
