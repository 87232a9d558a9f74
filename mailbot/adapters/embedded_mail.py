"""An IMAP + SMTP server inside the mailbot process, for `mailbot demo` (no root, no Debian packages).

pymap (IMAP, its in-memory "dict" backend) and aiosmtpd (SMTP) share one asyncio event loop in a daemon thread,
bound to loopback only: IMAP takes a plain LOGIN without TLS, and SMTP needs no AUTH because it relays nothing.
SMTP accepts mail for the known users of `domains`, plus addresses `local+TOKEN@domain` included, and refuses
every other recipient with 550. Each accepted message is stored in the user's INBOX the way APPEND stores it
(IDLE clients get EXISTS at once), CRLF kept, with `Return-Path` and `Delivered-To: <address given at RCPT>`
prepended as Dovecot's LMTP does: mailbot matches replies by the plus token in Delivered-To. mailbot's real
IMAP and SMTP adapters run against it unchanged. It is a demo server, not a stand-in for Dovecot in tests
(they run the real Dovecot and Postfix: tests/support/mailservers.py).

What pymap 0.36 needed, and why:

- IDLE lost mail that arrived between the client's last command and IDLE: pymap's IDLE waits for the *next*
  change of the mailbox, so that mail was announced only at DONE, up to mailbot's IDLE cycle (25 minutes) later.
  Dovecot sends that EXISTS right after "+ idling" and mailbot relies on it. `_Session` makes the first check of
  each IDLE report pending changes without waiting; pymap builds sessions from the identity its `Login` returns,
  hence the two small subclasses `_Login` and `_Identity` that lead to it.
- Passwords: without passlib pymap hashes with PBKDF2 at 500 000 rounds, about 0.1 s per user at start and again
  per login. `Cleartext` is enough for a throw-away loopback server whose password is in the demo's config anyway.
- pymap calls `socket.getfqdn()` (a DNS lookup: slow, or hanging, on a machine without DNS) for every IMAP
  greeting, and aiosmtpd for every SMTP session: both get a fixed host name.
- pymap's `IMAPService` keeps its listening socket to itself; the IMAP server is started here the same way
  (`IMAPServer` behind the PROXY-protocol reader, a no-op), so that the port picked for port 0 can be read.
- `asyncio.Server.close()` leaves open connections alone: `stop()` cancels their tasks (pymap says BYE, aiosmtpd
  closes) before the loop ends, so no transport or task is left behind to warn about.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import ssl
import threading
from argparse import Namespace
from collections.abc import AsyncIterator, Coroutine, Iterable
from concurrent.futures import Future
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from weakref import WeakSet

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from proxyprotocol.reader import ProxyProtocolReader
from proxyprotocol.version import ProxyProtocolVersion
from pymap.backend.dict import Config, Identity, Login, Session
from pymap.concurrent import Event, Subsystem
from pymap.imap import IMAPServer
from pymap.interfaces.login import IdentityInterface
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials import FetchRequirement
from pymap.selected import SelectedMailbox
from pymap.user import Passwords, UserMetadata
from pysasl.creds.server import ServerCredentials
from pysasl.hashing import Cleartext

from mailbot.log import get_logger

log = get_logger(__name__)

HOSTNAME = "mailbot-demo.localhost"  # greeting name of both servers (never looked up)
DATA_SIZE_LIMIT = 64 * 1024 * 1024  # SMTP message size limit: above mailbot's 25 MB messages, encoded
INBOX = "INBOX"
_START_TIMEOUT = 10.0  # seconds for both servers to bind (they take well under one)
_STOP_TIMEOUT = 10.0
_CALL_TIMEOUT = 30.0  # one storage operation run on the server's loop from another thread
_EOLS = re.compile(rb"\r\n|\n|\r(?!\n)")  # what smtplib turns into CRLF before sending

_T = TypeVar("_T")


class RecipientRefusedError(ValueError):
    """The address is not a user of the server's domains (SMTP answers 550 for it)."""


class EmbeddedMailServer:
    """pymap (IMAP) and aiosmtpd (SMTP) on loopback in one background event loop; a context manager.

    Every address of `users` logs in, in lower case, with `password`. Ports 0 pick free ports: read `imap_port`
    and `smtp_port` after `start()`. Storage lives in memory and is gone after `stop()`; a later `start()` binds
    the same ports again with empty mailboxes.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        imap_port: int = 0,
        smtp_port: int = 0,
        domains: Iterable[str],
        users: Iterable[str],
        password: str,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"host {host!r} is not a loopback address: logins travel in clear text")
        if not password:
            raise ValueError("password must not be empty")
        self.host = host
        self._ports = {"imap": imap_port, "smtp": smtp_port}
        self._domains = frozenset(d.strip().lower() for d in domains)
        self._password = password
        self._users: set[str] = set()
        for user in users:
            self._users.add(_user_address(user))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._login: _Login | None = None

    # -- life cycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def imap_port(self) -> int:
        """The IMAP port: as given, or the one picked for 0 once started."""
        return self._ports["imap"]

    @property
    def smtp_port(self) -> int:
        """The SMTP port: as given, or the one picked for 0 once started."""
        return self._ports["smtp"]

    def start(self) -> None:
        """Bind both servers and return once they accept connections (a failure to bind is raised here)."""
        if self._thread is not None:
            raise RuntimeError("the embedded mail server is already running")
        self._ready.clear()
        self._failure = None
        thread = threading.Thread(target=self._run, name="embedded-mail", daemon=True)
        thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise TimeoutError(f"the embedded mail server did not start within {_START_TIMEOUT:.0f} s")
        if self._failure is not None:
            thread.join(_STOP_TIMEOUT)
            raise self._failure
        self._thread = thread
        log.info("embedded_mail_started", host=self.host, imap_port=self.imap_port, smtp_port=self.smtp_port)

    def stop(self) -> None:
        """Close both servers and their open connections, and join the thread. Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise TimeoutError(f"the embedded mail server did not stop within {_STOP_TIMEOUT:.0f} s")
        log.info("embedded_mail_stopped", host=self.host)

    # -- users and mail -----------------------------------------------------------------------------------

    def add_user(self, address: str) -> None:
        """Let `address` log in (with the server's password) and receive mail; works before and after start."""
        user = _user_address(address)
        if self.running:
            self._call(self._register(user))
        self._users.add(user)

    def deliver(self, raw: bytes, to: str, *, sender: str = "") -> None:
        """Store `raw` for `to` exactly as an SMTP delivery would (line ends made CRLF as smtplib does).

        Raises RecipientRefusedError where SMTP would answer 550.
        """
        for value in (to, sender):
            if "\r" in value or "\n" in value:
                raise ValueError(f"address {value!r} contains a line break")
        if self._recipient_user(to) is None:
            raise RecipientRefusedError(f"{to} is not a user of {sorted(self._domains)}")
        self._call(self._store(_EOLS.sub(b"\r\n", raw), to, sender))

    def messages(self, user: str, folder: str = INBOX) -> list[bytes]:
        """The stored bytes of every message in one of the user's folders, in UID order (flags untouched)."""
        return self._call(self._read_folder(_user_address(user), folder))

    def folders(self, user: str) -> list[str]:
        """The names of the user's folders ('/' separates levels), INBOX included."""
        return self._call(self._list_folders(_user_address(user)))

    # -- internals: event loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        """Thread body: the loop lives as long as `_serve`; asyncio.run then sweeps tasks and closes it."""
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            if self._ready.is_set():  # after start nobody is waiting to raise it: say it here
                log.error("embedded_mail_failed", error=f"{type(exc).__name__}: {exc}")
            self._failure = exc
        finally:
            self._loop = None
            self._ready.set()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        config = _config(self.host, self._ports["imap"])
        config.apply_context()
        self._login = _Login(config)
        for user in sorted(self._users):
            await self._register(user)
        imap = await asyncio.start_server(_imap_callback(self._login, config), self.host, self._ports["imap"])
        try:
            smtp = await loop.create_server(lambda: self._smtp_protocol(loop), self.host, self._ports["smtp"])
        except BaseException:
            imap.close()
            await imap.wait_closed()
            raise
        servers = (imap, smtp)
        self._ports = {"imap": _bound_port(imap), "smtp": _bound_port(smtp)}
        self._loop = loop
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            for server in servers:
                server.close()
            await _cancel_other_tasks()
            for server in servers:
                await server.wait_closed()

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run one storage operation on the server's loop (pymap's objects belong to it) and wait for it."""
        loop = self._loop
        if loop is None or not self.running:
            coro.close()
            raise RuntimeError("the embedded mail server is not running (call start() first)")
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coro, loop)
        return future.result(_CALL_TIMEOUT)

    def _smtp_protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return SMTP(
            _SmtpHandler(self),
            hostname=HOSTNAME,
            data_size_limit=DATA_SIZE_LIMIT,
            enable_SMTPUTF8=True,
            loop=loop,
        )

    # -- internals: storage (on the loop) -----------------------------------------------------------------

    def _recipient_user(self, address: str) -> str | None:
        """The user whose INBOX receives `address` ('+detail' dropped), or None when not one of ours."""
        local, at, domain = address.strip().lower().rpartition("@")
        if not at or not local or domain not in self._domains:
            return None
        user = f"{local.split('+', 1)[0]}@{domain}"
        return user if user in self._users else None

    async def _register(self, user: str) -> None:
        login = self._require_login()
        password = await Passwords(login.config).hash_password(self._password)
        await _Identity(user, login).set(UserMetadata(login.config, user, password=password))

    async def _store(self, raw: bytes, recipient: str, sender: str) -> None:
        """APPEND-equivalent delivery into the INBOX of `recipient`'s user, trace headers first."""
        user = self._recipient_user(recipient)
        if user is None:
            raise RecipientRefusedError(f"{recipient} is not a user of {sorted(self._domains)}")
        message = _trace_headers(sender, recipient) + raw
        async with self._session(user) as session:
            await session.append_messages(INBOX, [AppendMessage(message, datetime.now(UTC))])
        log.debug("embedded_mail_delivered", recipient=recipient, user=user, size=len(message))

    async def _read_folder(self, user: str, folder: str) -> list[bytes]:
        async with self._session(user) as session:
            mailbox = await session.mailbox_set.get_mailbox(folder)
            stored = sorted([message async for message in mailbox.messages()], key=lambda message: message.uid)
            return [bytes(await message.load_content(FetchRequirement.CONTENT)) for message in stored]

    async def _list_folders(self, user: str) -> list[str]:
        async with self._session(user) as session:
            tree = await session.mailbox_set.list_mailboxes()
            return [entry.name for entry in tree.list() if entry.exists]

    def _session(self, user: str) -> contextlib.AbstractAsyncContextManager[Session]:
        return _Identity(user, self._require_login()).new_session()

    def _require_login(self) -> _Login:
        if self._login is None:
            raise RuntimeError("the embedded mail server is not running")
        return self._login


class _SmtpHandler:
    """aiosmtpd hooks: RCPT accepts only the server's users, DATA stores one copy per accepted recipient."""

    def __init__(self, server: EmbeddedMailServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self._server._recipient_user(address) is None:
            return f"550 5.1.1 <{address}>: recipient not accepted here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        for recipient in envelope.rcpt_tos:
            await self._server._store(content, recipient, envelope.mail_from or "")
        return "250 2.0.0 OK: delivered"


# -- pymap: configuration and the IDLE fix ------------------------------------------------------------------


class _Config(Config):
    """The dict backend's config with a fixed greeting: pymap's default looks the host name up per connection."""

    @property
    def greeting(self) -> bytes:
        return b"Server ready " + HOSTNAME.encode("ascii")


def _config(host: str, port: int) -> _Config:
    """No TLS (loopback), cleartext passwords, no thread pool, no demo data, nothing read from the environment."""
    args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None)
    return _Config(
        args,
        host=host,
        port=port,
        demo_data=False,
        demo_user="",
        demo_password="",
        tls_enabled=False,
        ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER),  # never used (no STARTTLS); avoids reading CERT_FILE
        hash_context=Cleartext(),
        subsystem=Subsystem.for_asyncio(),
        cpu_subsystem=Subsystem.for_asyncio(),
        proxy_protocol=ProxyProtocolVersion.get(None),
    )


class _Session(Session):
    """A dict-backend session whose IDLE first reports what changed since the last command (see module doc)."""

    def __init__(self, base: Session) -> None:
        super().__init__(base.owner, base.config, base.mailbox_set, base.filter_set)
        self._idles_started: WeakSet[Event] = WeakSet()

    async def check_mailbox(
        self, selected: SelectedMailbox, *, wait_on: Event | None = None, housekeeping: bool = False
    ) -> SelectedMailbox:
        # pymap calls this in a loop during one IDLE, always with the same `wait_on` (the IDLE's "done" event).
        if wait_on is not None and wait_on not in self._idles_started:
            self._idles_started.add(wait_on)
            wait_on = None
        return await super().check_mailbox(selected, wait_on=wait_on, housekeeping=housekeeping)


class _Identity(Identity):
    def __init__(self, name: str, login: Login, roles: Iterable[str] = ()) -> None:
        super().__init__(name, login, None, frozenset(roles))

    @contextlib.asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        async with super().new_session() as session:
            yield _Session(session)


class _Login(Login):
    """pymap's dict login, handing out `_Identity` so that IMAP sessions are `_Session`s."""

    async def authenticate(self, credentials: ServerCredentials) -> _Identity:
        identity = await super().authenticate(credentials)
        return _Identity(identity.name, self, identity.roles)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> _Identity:
        identity = await super().authorize(authenticated, authzid)
        return _Identity(identity.name, self, identity.roles)


def _imap_callback(login: Login, config: Config) -> Any:
    """What pymap's IMAPService hands to asyncio.start_server: the IMAP server behind the PROXY-protocol reader."""
    return ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(login, config))


# -- helpers ------------------------------------------------------------------------------------------------


async def _cancel_other_tasks() -> None:
    """Cancel the connections' tasks (and any they start while ending) and wait for them to finish."""
    current = asyncio.current_task()
    while others := [task for task in asyncio.all_tasks() if task is not current and not task.done()]:
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
    await asyncio.sleep(0)  # let the closed transports deliver connection_lost


def _trace_headers(sender: str, recipient: str) -> bytes:
    """Return-Path and Delivered-To as Dovecot's LMTP writes them (the recipient as given, plus detail kept)."""
    return f"Return-Path: <{sender}>\r\nDelivered-To: {recipient}\r\n".encode()


def _user_address(address: str) -> str:
    """A login and mailbox name: the address in lower case; '+' is refused, it starts a detail."""
    user = address.strip().lower()
    local, at, domain = user.rpartition("@")
    if not at or not local or not domain or "+" in local or any(c.isspace() for c in user):
        raise ValueError(f"{address!r} is not a plain e-mail address (local@domain, without '+')")
    return user


def _bound_port(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port


def _is_loopback(host: str) -> bool:
    """An IP literal on loopback ("localhost" may name two addresses, each given its own port for 0)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
