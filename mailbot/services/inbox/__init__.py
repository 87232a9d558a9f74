"""Processing the planeación mailbox: every message ends with exactly one recorded outcome and at most one answer.

A reply's path, one module per step (`InboxProcessor` in `processor.py` only calls them in order):

  fetch, record   `fetcher.py`    each new UID's original bytes (never setting \\Seen) archived with every attachment
                                  by SHA-256; a `received_messages` row with no outcome committed together with the
                                  advanced checkpoint;
  claim           `worker.py`     one row without an outcome, locked for the whole transaction (`SELECT … FOR UPDATE
                                  SKIP LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises the single process);
  decide          `deciding.py`   the pure verdict of `domain/reply.py` (screen, place, judge) with what it needs read
                                  between its stages (the workbooks, the matched mailing's baseline and context);
  persist         `persist.py`    under advisory locks on the mailing, the sender and the Message-ID: duplicate or
                                  not (`reply.settle`), the outcome, the submission (version, radicado), the audit;
  answer          `answering.py`  the answer's facts read from the persisted submission, the mail from the templates
                                  (or a plain acknowledgement), the daily cap, a question forwarded, all in the outbox;
  attend          `attend.py`     the attention items the decision opens and those it settles;
  commit          `worker.py`     all of the above in the claim's one transaction;
  file            `filing.py`     after the commit: the plan's link under planes/, then `submissions.filed_as`;
  move            `fetcher.py`    after the commit: the message to the folder of its outcome.

The fetcher (one per mailbox; it holds the IMAP connection) records and moves; workers (any number, `work_pending`)
claim, decide, commit and file; role `all` runs every step per message through these same functions, and each pass
of the fetcher starts with `move_decided`, which files and moves whatever earlier passes or other workers left.

A crash before the commit leaves a row without an outcome that the next worker claims (a killed worker's row lock
vanishes with its connection); the answer's dedup key is the received row, so nothing is answered twice. A crash
after it leaves a submission not yet filed or a message not yet moved: the next pass does it, idempotently and under
the same name, so the archive, planes/ and the mailbox always agree with the database. A message that makes the
processing fail gets the outcome `error` (its raw bytes are in the archive) and the loop goes on; a storage fault
(archive or database) stops the pass instead, leaving the message untouched on the server, or its row without an
outcome, for the next attempt.
"""

from mailbot.services.inbox.answering import ANSWER_KINDS
from mailbot.services.inbox.fetcher import FOLDER_OF
from mailbot.services.inbox.processor import InboxProcessor, PassReport

__all__ = ["ANSWER_KINDS", "FOLDER_OF", "InboxProcessor", "PassReport"]
