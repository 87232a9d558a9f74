"""The IMAP adapter: find new messages by UID, fetch their original bytes, move them, wait for new mail.

imap-tools (a fixed choice of the project) opens the connection and logs in; wherever it bites, this module talks
to its `client` (imaplib) directly (each case is tested in tests/integration/test_imap_adapter.py):

- `UID n:*` returns the last message even when n is above the highest UID: results are filtered `uid > last`;
- `fetch()` sets \\Seen by default and `msg.obj` is a re-parse: we send `UID FETCH (UID BODY.PEEK[])` ourselves;
- `flag()` and the fallback of `move()` run a plain EXPUNGE, which also removes unrelated messages someone marked
  \\Deleted: we use UID MOVE, or UID COPY + UID STORE + UID EXPUNGE of that one UID (UIDPLUS);
- its `xoauth2()` answers a refused XOAUTH2 with the token again instead of an empty line: the exchange runs on
  imaplib (`mailbot.adapters.imap_login`, which opens the connection and logs in), and a renewed token is tried once;
- imaplib keeps the capabilities announced before login (no MOVE on Dovecot): we read them again after login;
- its IDLE poll returns `[]` forever once the server has gone (a busy loop), and misses mail that arrived before
  IDLE: Dovecot sends that EXISTS right behind "+ idling", imaplib's buffered reader takes both lines, and a
  select() on the socket then waits out the whole timeout (measured: `idle.wait(3)` → `[]` after 3 s). Its start
  also fails on any untagged line before "+ idling". So IDLE runs on imaplib here, checking the read buffer
  before select(), and BYE, EOF or a reset raise TemporaryError;
- IDLE cycles stay at most 25 minutes, below the 29 after which servers may log an idle client out (RFC 2177).

Nothing here marks a message seen, and no command's cost grows with the size of the folder when nothing is new.
One `ImapMailbox` is one connection used by one thread. After a TemporaryError the connection is closed: call
`connect()` again (with `mailbot.adapters.backoff.Backoff` between attempts).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import selectors
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from imap_tools import BaseMailBox
from imap_tools.errors import ImapToolsError

from mailbot.adapters import imap_login
from mailbot.adapters import imap_wire as wire
from mailbot.adapters.connections import describe
from mailbot.adapters.imap_wire import parse_fetch
from mailbot.adapters.oauth2 import OAuth2Tokens
from mailbot.config import Imap
from mailbot.errors import PermanentError, TemporaryError
from mailbot.log import get_logger

log = get_logger(__name__)

IDLE_CYCLE_SECONDS = 25 * 60  # re-issue IDLE well before RFC 2177's 29 minutes
_IDLE_CYCLE_LIMIT = 29 * 60
FETCH_BATCH = 20  # messages per UID FETCH: few round trips, bounded memory (messages may weigh 25 MB)
FETCH_CHUNK = 2 * 2**20  # a larger message is fetched in pieces of this size (bounded memory at any size)
MOVE_SET = 200  # UIDs per UID MOVE: one round trip for a pass's decided mail, a command line of a few KB at most
FETCH_GROUP_BYTES = 8 * 2**20  # small messages fetched in one command, at most this much together
_STOP_CHECK_SECONDS = 0.5  # how often a wait looks at its stop event
_SEARCH_ROUNDS = 3  # re-searches when a SEARCH itself announces new mail (see uids_after)
_NOT_A_FOLDER = ("\\NONEXISTENT", "\\NOSELECT")
_CONNECTION_LOST = imap_login.CONNECTION_LOST


@dataclass(frozen=True)
class FolderState:
    """What a checkpoint needs from a folder: UIDs only compare within one UIDVALIDITY."""

    uidvalidity: int
    uidnext: int
    exists: int


class ImapMailbox:
    """One IMAP connection built from `mailbot.config.Imap`; a context manager that connects and logs out."""

    def __init__(
        self,
        config: Imap,
        *,
        idle_cycle: float = IDLE_CYCLE_SECONDS,
        fetch_batch: int = FETCH_BATCH,
        ignore_capabilities: Collection[str] = (),
        tokens: OAuth2Tokens | None = None,
    ) -> None:
        """`ignore_capabilities` names extensions to treat as absent: a server that announces one and breaks it.

        `tokens`: log in with XOAUTH2 and this renewed OAuth2 token (shared with SMTP) instead of the password.
        """
        if not 0 < idle_cycle <= _IDLE_CYCLE_LIMIT:
            raise ValueError("idle_cycle must be positive and at most 29 minutes (RFC 2177)")
        if fetch_batch < 1:
            raise ValueError("fetch_batch must be at least 1")
        self.config = config
        self._idle_cycle = idle_cycle
        self._fetch_batch = fetch_batch
        self._ignored = frozenset(c.upper() for c in ignore_capabilities)
        self._tokens = tokens
        self._box: BaseMailBox | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._selected: str | None = None
        self._state: FolderState | None = None  # of the selected folder, as its SELECT said
        self._delimiter: str | None = None
        self._prefix: str | None = None  # the personal namespace's prefix: "INBOX." on cPanel, else ""
        self._news = False  # an EXISTS arrived that no search has looked at yet
        self._folders: set[str] = set()  # server names seen to exist on this connection (no LIST per move)

    # -- life cycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._box is not None

    def connect(self) -> None:
        """Open, secure and log in. Refused, reset or silent server: TemporaryError; bad credentials: Permanent."""
        self.close()
        box = imap_login.open_connection(self.config)
        try:
            imap_login.log_in(box, self.config, self._tokens)
            capabilities = self._read_capabilities(box)
        except BaseException:
            wire.shutdown(box.client)
            raise
        self._box = box
        self._capabilities = capabilities - self._ignored
        box.client.capabilities = tuple(sorted(self._capabilities))  # imap-tools reads these too
        log.info(
            "imap_connected",
            host=self.config.host,
            port=self.config.effective_port,
            security=self.config.security,
            user=self.config.user,
            idle=self.supports_idle,
            move=self.supports_move,
            uidplus=self.supports_uidplus,
        )

    def close(self) -> None:
        """Log out politely; a connection that is already broken is just closed. Safe to call twice."""
        box = self._forget()
        if box is None:
            return
        try:
            box.client.logout()
        except (*_CONNECTION_LOST, imaplib.IMAP4.error):
            wire.shutdown(box.client)

    @property
    def capabilities(self) -> frozenset[str]:
        """The capabilities announced after login (upper case), minus `ignore_capabilities`."""
        return self._capabilities

    @property
    def supports_idle(self) -> bool:
        return "IDLE" in self._capabilities

    @property
    def supports_move(self) -> bool:
        return "MOVE" in self._capabilities

    @property
    def supports_uidplus(self) -> bool:
        return "UIDPLUS" in self._capabilities

    @property
    def commands_sent(self) -> int:
        """Commands sent on this connection so far (imaplib's tag counter): what a poll costs, measurably."""
        return self._box.client.tagnum if self._box is not None else 0

    # -- reading ------------------------------------------------------------------------------------------

    def select(self, folder: str) -> FolderState:
        """SELECT the folder (read-write, which never sets \\Seen) and return its UIDVALIDITY, UIDNEXT and size."""
        client = self._client()
        with self._guard(f"SELECT {folder}"):
            typ, data = client.select(wire.folder_arg(folder))
            if typ != "OK":
                self._selected = None
                raise PermanentError(
                    f"IMAP folder '{folder}' cannot be opened ({wire.text(data)}); the folders on the server are: "
                    f"{', '.join(self.folders()) or 'none'} (check imap.folder)"
                )
            self._selected = folder
            responses = client.untagged_responses
            uidvalidity = wire.first_int(responses.get("UIDVALIDITY"))
            uidnext = wire.first_int(responses.get("UIDNEXT"))
            exists = wire.first_int(responses.get("EXISTS")) or 0
            responses.clear()  # SELECT's own EXISTS is not news
        if uidvalidity is None:
            raise PermanentError(f"IMAP server sent no UIDVALIDITY for '{folder}': UIDs cannot be trusted")
        if uidnext is None:
            uidnext = self._status_uidnext(folder)
        self._state = FolderState(uidvalidity=uidvalidity, uidnext=uidnext, exists=exists)
        return self._state

    def state(self, folder: str) -> FolderState:
        """The folder's UIDVALIDITY, UIDNEXT and size as of its SELECT, without asking the server again.

        A pass must not cost more on a big folder: a new SELECT makes Dovecot recompute the folder's summary (32 ms
        on 100,000 messages against 2 ms on an empty one, measured) and swallows the EXISTS of mail that arrived
        meanwhile. While the folder stays selected its UIDVALIDITY cannot change under us: a server that deletes
        or recreates it ends the session (Dovecot: BYE), and the reconnect SELECTs again. UIDNEXT and the size may
        be stale; only the first pass on a mailbox uses them, and that pass has just selected it.
        """
        if self._selected != folder or self._state is None:
            return self.select(folder)
        return self._state

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """UIDs strictly above `last_uid`, ascending: one `UID SEARCH UID last+1:*`, whatever the folder's size.

        Dovecot answers a SEARCH from the view it had before the command and announces mail that arrived meanwhile
        with an EXISTS at the end; when that happens the search runs again, so a new message is never left for
        the next poll.
        """
        if last_uid < 0:
            raise ValueError("last_uid is a UID checkpoint: 0 or more")
        self._ensure_selected(folder)
        found: list[int] = []
        grew = False
        for _ in range(_SEARCH_ROUNDS):
            found, grew = self._search_above(last_uid)
            if not grew:
                break
        self._news = grew
        return found

    def uids_since(self, folder: str, day: dt.date) -> list[int]:
        """UIDs of the messages the server received on or after `day` (its INTERNALDATE), ascending."""
        self._ensure_selected(folder)
        typ, data = self._uid("SEARCH", f"SINCE {day.strftime('%d-%b-%Y')}")
        if typ != "OK":
            raise PermanentError(f"IMAP server refused UID SEARCH: {wire.text(data)}")
        return sorted(wire.ints(data))

    def fetch_raw(self, folder: str, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(uid, original bytes) in ascending UID order, via BODY.PEEK[] in batches; a vanished UID is skipped.

        Each batch is read whole before its messages are yielded, so the caller may use the connection (move,
        fetch) between two messages.
        """
        wanted = sorted(set(uids))
        for start in range(0, len(wanted), self._fetch_batch):
            batch = wanted[start : start + self._fetch_batch]
            self._ensure_selected(folder)
            found = self._fetch_batch_raw(folder, batch)
            for uid in batch:
                if uid in found:
                    yield uid, found[uid]
                else:
                    log.info("imap_message_vanished", folder=folder, uid=uid)

    def fetch_files(self, folder: str, uids: Sequence[int], directory: Path) -> Iterator[tuple[int, Path]]:
        """(uid, a new file in `directory` with its original bytes), ascending; a vanished UID is skipped.

        Memory stays bounded whatever a message weighs: one `UID FETCH (UID RFC822.SIZE)` per batch learns the
        sizes; messages up to FETCH_CHUNK are fetched a group at a time (at most FETCH_GROUP_BYTES in flight), a
        larger one in FETCH_CHUNK pieces (`BODY.PEEK[]<offset.length>`, RFC 3501 6.4.5) appended to its file. The
        caller owns each file, and may use the connection between two messages.
        """
        wanted = sorted(set(uids))
        for start in range(0, len(wanted), self._fetch_batch):
            batch = wanted[start : start + self._fetch_batch]
            self._ensure_selected(folder)
            sizes = self._sizes(folder, batch)
            small = [uid for uid in batch if sizes.get(uid, FETCH_CHUNK + 1) <= FETCH_CHUNK]
            written: dict[int, Path] = {}
            for group in _groups(small, sizes):
                for uid, raw in self._fetch_batch_raw(folder, group).items():
                    written[uid] = _spool(directory, uid, raw)
            for uid in batch:
                path = written.get(uid)
                if path is None and uid in sizes and uid not in small:
                    path = self._fetch_in_pieces(folder, uid, directory)
                if path is None:
                    log.info("imap_message_vanished", folder=folder, uid=uid)
                    continue
                yield uid, path

    # -- folders and moves --------------------------------------------------------------------------------

    def namespace(self) -> tuple[str, str]:
        """The personal namespace's prefix and delimiter: ("INBOX.", ".") on cPanel's Dovecot, ("", "/") on many.
        Configuration names use '/' and no prefix: `mailbot/procesados` is `INBOX.mailbot.procesados` on cPanel."""
        if self._prefix is None:
            self._prefix = ""
            if "NAMESPACE" in self._capabilities:
                with self._guard("NAMESPACE"):
                    typ, data = self._client().namespace()
                found = wire.personal_namespace(data) if typ == "OK" else None
                if found is not None:
                    self._prefix, delimiter = found
                    self._delimiter = delimiter or self._delimiter
        return self._prefix, self._server_delimiter()

    def folders(self, special_use: str | None = None) -> list[str]:
        """Every selectable folder as the server names it (what imap.folder may say), INBOX first; with `special_use`
        (RFC 6154, e.g. "\\Junk") only those the server marks so."""
        box = self._box
        if box is None:
            raise TemporaryError("IMAP is not connected")
        with self._guard("LIST"):
            listed = box.folder.list()
        wanted = [f for f in listed if special_use is None or special_use.upper() in map(str.upper, f.flags)]
        names = [f.name for f in wanted if not any(flag.upper() in _NOT_A_FOLDER for flag in f.flags)]
        return sorted(names, key=lambda name: (name.upper() != "INBOX", name.casefold()))

    def folder_exists(self, name: str) -> bool:
        """True when the folder (a configuration name, '/' as delimiter) exists and can be selected."""
        return self._folder_exists(self._server_name(name))

    def server_name(self, name: str) -> str:
        """A configuration folder name as the server spells it: its delimiter, and its namespace prefix."""
        return self._server_name(name)

    def ensure_folder(self, name: str) -> str:
        """Create the folder (and its parents) when missing; '/' in `name` means the server's delimiter.

        Returns the name as the server spells it (e.g. 'mailbot.procesados' where the delimiter is '.'). New
        folders are subscribed, or mail clients that list only subscribed folders would not show them.
        """
        server_name = self._server_name(name)
        if server_name in self._folders:  # a folder deleted since is recreated by the move's TRYCREATE
            return server_name
        if self._folder_exists(server_name):
            self._folders.add(server_name)
            return server_name
        if not self._create(server_name):
            parts = server_name.split(self._server_delimiter())
            for depth in range(1, len(parts)):
                self._create(self._server_delimiter().join(parts[:depth]))
            self._create(server_name)
        if not self._folder_exists(server_name):
            raise PermanentError(f"IMAP folder '{server_name}' could not be created (check the account's rights)")
        self._subscribe(server_name)
        self._folders.add(server_name)
        log.info("imap_folder_created", folder=server_name)
        return server_name

    def move(self, folder: str, uid: int, target: str) -> None:
        """Move one message: UID MOVE, else UID COPY + UID STORE \\Deleted + UID EXPUNGE of that UID only.

        A plain EXPUNGE is never sent: it would also remove messages a person marked \\Deleted. A missing target
        folder is created on the server's TRYCREATE hint. Moving a UID that no longer exists does nothing.
        """
        self.move_many(folder, [uid], target)

    def move_many(self, folder: str, uids: Sequence[int], target: str) -> None:
        """`move` of several messages to one folder, one command (or three without MOVE) per MOVE_SET UIDs."""
        wanted = sorted(set(uids))
        if not wanted:
            return
        self._ensure_selected(folder)
        destination = self._server_name(target)
        for start in range(0, len(wanted), MOVE_SET):
            chunk = wanted[start : start + MOVE_SET]
            uid_set = wire.uid_set(chunk)
            typ, data = self._transfer(uid_set, destination)
            if typ != "OK" and "[TRYCREATE]" in wire.text(data).upper():
                self._folders.discard(destination)
                self.ensure_folder(target)
                self._ensure_selected(folder)
                typ, data = self._transfer(uid_set, destination)
            if typ != "OK":
                raise PermanentError(
                    f"IMAP could not move UID {uid_set} from '{folder}' to '{destination}': {wire.text(data)}"
                )
            if not self.supports_move:
                self._delete(folder, uid_set)
            log.debug("imap_message_moved", folder=folder, uid=uid_set, target=destination)

    # -- waiting ------------------------------------------------------------------------------------------

    def wait_for_new(self, folder: str, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until new mail may be in `folder` (True) or `timeout` seconds pass or `stop` is set (False).

        With IDLE (offered and enabled) the answer comes about 0.5 s after a delivery on Dovecot. Without it this
        only waits, and the caller polls with `uids_after`. A True can be spurious (an EXISTS without new mail);
        it costs one poll. A server that says BYE, closes or resets raises TemporaryError at once.
        """
        self._client()  # a lost connection raises at once, never turns into a plain sleep
        if not (self.config.idle and self.supports_idle):
            return wire.sleep(timeout, stop)
        self._ensure_selected(folder)
        self._harvest_news()
        if self._news:
            self._news = False
            return True
        deadline = time.monotonic() + timeout
        while not (stop is not None and stop.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self._idle_cycle_once(min(remaining, self._idle_cycle), stop):
                return True
        return False

    # -- internals: connection ----------------------------------------------------------------------------

    def _read_capabilities(self, box: BaseMailBox) -> frozenset[str]:
        """The capabilities after login: from the login answer when it carries them, else one CAPABILITY."""
        client = box.client
        announced = client.untagged_responses.pop("CAPABILITY", None)
        with self._guard("CAPABILITY", drop=False):
            if not announced:
                typ, announced = client.capability()
                if typ != "OK":
                    raise PermanentError(f"IMAP server refused CAPABILITY: {wire.text(announced)}")
        return frozenset(wire.text(announced[-1:]).upper().split())

    def _client(self) -> imaplib.IMAP4:
        if self._box is None:
            raise TemporaryError("IMAP is not connected (connect() first, or again after a lost connection)")
        return self._box.client

    def _forget(self) -> BaseMailBox | None:
        box, self._box = self._box, None
        self._selected = None
        self._state = None
        self._delimiter = None
        self._prefix = None
        self._news = False
        self._folders = set()
        self._capabilities = frozenset()
        return box

    @contextlib.contextmanager
    def _guard(self, what: str, *, drop: bool = True, fresh: bool = True) -> Iterator[None]:
        """Map failures: a dead connection → TemporaryError (and close it); a refusal (BAD) → PermanentError.

        `fresh` first clears the untagged responses of earlier commands (noting any EXISTS among them), so that
        what the command leaves there is its own.
        """
        if fresh:
            self._harvest_news()
        try:
            yield
        except _CONNECTION_LOST as exc:
            if drop:
                box = self._forget()
                if box is not None:
                    wire.shutdown(box.client)
            where = f"{self.config.host}:{self.config.effective_port}"
            raise TemporaryError(f"IMAP connection to {where} lost during {what}: {describe(exc)}") from None
        except (imaplib.IMAP4.error, ImapToolsError) as exc:
            raise PermanentError(f"IMAP server refused {what}: {exc}") from None

    def _harvest_news(self) -> None:
        """Remember an EXISTS from the last command before its responses are cleared for the next one."""
        if self._box is None:
            return
        responses = self._box.client.untagged_responses
        if "EXISTS" in responses:
            self._news = True
        responses.clear()

    # -- internals: commands ------------------------------------------------------------------------------

    def _ensure_selected(self, folder: str) -> None:
        """SELECT only when another folder (or none) is selected: a poll of a selected folder costs one command."""
        if self._selected != folder:
            self.select(folder)

    def _uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        client = self._client()
        with self._guard(f"UID {command}"):
            return client.uid(command, *args)

    def _transfer(self, uid_set: str, destination: str) -> tuple[str, list[Any]]:
        """UID MOVE where offered, else the UID COPY half of a move."""
        return self._uid("MOVE" if self.supports_move else "COPY", uid_set, wire.folder_arg(destination))

    def _search_above(self, last_uid: int) -> tuple[list[int], bool]:
        """One UID SEARCH; returns the UIDs above `last_uid` and whether the server announced new mail."""
        typ, data = self._uid("SEARCH", f"UID {last_uid + 1}:*")
        if typ != "OK":
            raise PermanentError(f"IMAP server refused UID SEARCH: {wire.text(data)}")
        found = sorted(uid for uid in wire.ints(data) if uid > last_uid)  # `n:*` always matches the last message
        grew = "EXISTS" in self._client().untagged_responses
        return found, grew

    def _fetch_batch_raw(self, folder: str, batch: Sequence[int]) -> dict[int, bytes]:
        """UID FETCH (UID BODY.PEEK[]) of a batch. PEEK: \\Seen stays unset until the outcome is committed."""
        typ, data = self._uid("FETCH", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
        if typ != "OK":
            # Some servers answer NO when a message of the batch was expunged meanwhile: keep the others.
            log.warning("imap_fetch_incomplete", folder=folder, uids=list(batch), server=wire.text(data))
            data = self._client().untagged_responses.pop("FETCH", [])
        return parse_fetch(data)

    def _sizes(self, folder: str, batch: Sequence[int]) -> dict[int, int]:
        """UID → RFC822.SIZE for the batch's messages still there."""
        typ, data = self._uid("FETCH", ",".join(map(str, batch)), "(UID RFC822.SIZE)")
        if typ != "OK":
            log.warning("imap_fetch_incomplete", folder=folder, uids=list(batch), server=wire.text(data))
            data = self._client().untagged_responses.pop("FETCH", [])
        return wire.parse_sizes(data)

    def _fetch_in_pieces(self, folder: str, uid: int, directory: Path) -> Path | None:
        """One large message, FETCH_CHUNK bytes a command, appended to its file; None when it vanished."""
        path = directory / f"{uid}.eml"
        offset = 0
        with path.open("wb") as out:
            while True:
                typ, data = self._uid("FETCH", str(uid), f"(UID BODY.PEEK[]<{offset}.{FETCH_CHUNK}>)")
                piece = parse_fetch(data).get(uid) if typ == "OK" else None
                if piece is None:
                    break
                out.write(piece)
                offset += len(piece)
                if len(piece) < FETCH_CHUNK:
                    break
        if offset == 0:
            path.unlink(missing_ok=True)
            return None
        return path

    def _delete(self, folder: str, uid: str) -> None:
        """Flag UIDs \\Deleted and expunge those UIDs only; without UIDPLUS leave them flagged (never EXPUNGE all)."""
        typ, data = self._uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        if typ != "OK":
            raise PermanentError(f"IMAP could not flag UID {uid} in '{folder}' as deleted: {wire.text(data)}")
        if not self.supports_uidplus:
            log.warning("imap_move_left_copy", folder=folder, uid=uid, reason="server has neither MOVE nor UIDPLUS")
            return
        typ, data = self._uid("EXPUNGE", uid)
        if typ != "OK":
            raise PermanentError(f"IMAP could not expunge UID {uid} in '{folder}': {wire.text(data)}")

    def _status_uidnext(self, folder: str) -> int:
        """UIDNEXT from STATUS, for servers whose SELECT answer lacks it."""
        box = self._box
        assert box is not None
        with self._guard(f"STATUS {folder}"):
            status = box.folder.status(folder, ["UIDNEXT"])
        if "UIDNEXT" not in status:
            raise PermanentError(f"IMAP server sent no UIDNEXT for '{folder}'")
        return int(status["UIDNEXT"])

    def _server_delimiter(self) -> str:
        """The hierarchy delimiter from `LIST "" ""`; a flat server (NIL) keeps names as they are."""
        if self._delimiter is None:
            box = self._box
            if box is None:
                raise TemporaryError("IMAP is not connected")
            with self._guard("LIST"):
                listed = box.folder.list("", "")
            delimiter = listed[0].delim if listed else "/"
            self._delimiter = "/" if delimiter.upper() == "NIL" else delimiter
        return self._delimiter

    def _server_name(self, name: str) -> str:
        prefix, delimiter = self.namespace()
        server_name = delimiter.join(name.split("/"))
        if prefix and server_name.upper() != "INBOX" and not server_name.startswith(prefix):
            return prefix + server_name  # cPanel: only INBOX and INBOX.* exist
        return server_name

    def _folder_exists(self, server_name: str) -> bool:
        box = self._box
        if box is None:
            raise TemporaryError("IMAP is not connected")
        with self._guard(f"LIST {server_name}"):
            listed = box.folder.list("", server_name)
        return any(
            info.name == server_name and not any(flag.upper() in _NOT_A_FOLDER for flag in info.flags)
            for info in listed
        )

    def _create(self, server_name: str) -> bool:
        client = self._client()
        with self._guard(f"CREATE {server_name}"):
            typ, _ = client.create(wire.folder_arg(server_name))
        return typ == "OK"

    def _subscribe(self, server_name: str) -> None:
        client = self._client()
        with self._guard(f"SUBSCRIBE {server_name}"):
            client.subscribe(wire.folder_arg(server_name))

    # -- internals: IDLE ----------------------------------------------------------------------------------

    def _idle_cycle_once(self, seconds: float, stop: threading.Event | None) -> bool:
        """One IDLE … DONE exchange of at most `seconds`; True when the server announced new mail."""
        client = self._client()
        with self._guard("IDLE"):
            tag = wire.idle_start(client)
        try:
            news = "EXISTS" in client.untagged_responses or self._idle_listen(client, tag, seconds, stop)
            with self._guard("DONE", drop=False, fresh=False):
                wire.idle_done(client, tag)
        except BaseException:
            # A broken or interrupted IDLE leaves the session in an unknown state: never reuse it.
            box = self._forget()
            if box is not None:
                wire.shutdown(box.client)
            raise
        # An EXISTS that came with DONE (after a timeout or a stop) is news for the next wait, not lost.
        self._news = self._news or (not news and "EXISTS" in client.untagged_responses)
        client.untagged_responses.clear()
        return news

    def _idle_listen(self, client: imaplib.IMAP4, tag: bytes, seconds: float, stop: threading.Event | None) -> bool:
        """Read what the server says during IDLE until an EXISTS, the end of the cycle or `stop`."""
        end = time.monotonic() + seconds
        slice_ = _STOP_CHECK_SECONDS if stop is not None else seconds
        with selectors.DefaultSelector() as selector, self._guard("IDLE", drop=False, fresh=False):
            selector.register(client.sock, selectors.EVENT_READ)
            while not (stop is not None and stop.is_set()):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                if not wire.input_pending(client) and not selector.select(min(left, slice_)):
                    continue
                wire.read_during_idle(client, tag)
                if "EXISTS" in client.untagged_responses:
                    return True
        return False


def _groups(uids: Sequence[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """Consecutive UIDs whose sizes add up to at most FETCH_GROUP_BYTES (each at most FETCH_CHUNK)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        if group and total + sizes[uid] > FETCH_GROUP_BYTES:
            yield group
            group, total = [], 0
        group.append(uid)
        total += sizes[uid]
    if group:
        yield group


def _spool(directory: Path, uid: int, raw: bytes) -> Path:
    path = directory / f"{uid}.eml"
    path.write_bytes(raw)
    return path
