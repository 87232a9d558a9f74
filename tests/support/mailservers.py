"""Real Dovecot (IMAP + LMTP) and Postfix (SMTP) on loopback, private to one test session.

Why real servers: mailbot's IMAP and SMTP adapters must meet the behaviour of the servers a
municipality runs (RFC 2231 names, plus addresses, IDLE, 5xx at RCPT, TLS verification), which
no in-process stand-in reproduces. Each `MailServers` lives in its own folder under /tmp with
ports chosen at run time, so two test sessions on one machine never clash; every process is
stopped by the PID it wrote, never by name.

Pitfalls handled here were measured first: Postfix re-reads a main.cf whose mtime is not in
the past (we backdate it), fails silently without syslog (we set `maillog_file` and the
`postlog` service and run `postfix check`), treats virtual_alias_maps domains as alias-only (we
empty `virtual_alias_domains`); Dovecot writes under /var/lib unless `state_dir` is set and
delays logins after one failure unless the auth penalty is off.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from imap_tools import MailBoxUnencrypted

DOMAIN = "municipio.test"
OUTSIDE_DOMAIN = "externo.test"
DOMAINS = (DOMAIN, OUTSIDE_DOMAIN)
DEFAULT_USERS = (
    "planeacion@municipio.test",
    "hacienda@municipio.test",
    "educacion@municipio.test",
    "salud@municipio.test",
    "gobierno@municipio.test",
    "asistente@municipio.test",
    "outsider@externo.test",
)
REJECTED_ADDRESS = "rechazado@municipio.test"
# Postfix answers RCPT TO for this one with a temporary 450: a real 4xx that mailbot must retry, never give up early.
DEFERRED_ADDRESS = "aplazado@municipio.test"
PASSWORD = "clave-de-prueba"

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
_BINARIES = ("dovecot", "doveadm", "postfix", "postmap", "openssl")
_DOVECOT_MODULES = ("/usr/lib/dovecot/imap", "/usr/lib/dovecot/lmtp")
_SYSTEM_USERS = ("mail", "dovecot", "dovenull", "postfix")
_DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
_INSTALL_HINT = "run .ci/install-mailservers.sh as root"
# Config files are dated this far back: Postfix re-reads a file until its mtime is in the past.
_BACKDATE_SECONDS = 60
_START_TIMEOUT = 20.0
_STOP_TIMEOUT = 10.0
_PORT_ATTEMPTS = 3
# A file name too (one passwd-file per user), and never with the "+" that starts a detail.
_LOCAL_PART = re.compile(r"[a-z0-9][a-z0-9._-]*")


class MailServerError(RuntimeError):
    """A mail server failed to start, answer or stop; the message carries its log tail."""


def _binary(name: str) -> str:
    """Find a server binary also in /usr/sbin, which a non-login PATH may lack."""
    found = shutil.which(name, path=_SEARCH_PATH)
    if found is None:
        raise MailServerError(f"{name} not found ({_INSTALL_HINT})")
    return found


def _free_ports(count: int) -> list[int]:
    """Ask the kernel for distinct free loopback ports (held open together so they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write(path: Path, text: str, mtime: float | None = None) -> None:
    """Write a config file with a past mtime, so Postfix does not wait for it to age."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    past = time.time() - _BACKDATE_SECONDS if mtime is None else mtime
    os.utime(path, (past, past))


def _tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, for error messages that explain themselves."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _run(
    args: Sequence[str],
    what: str,
    log: Path | None = None,
    tolerate: str | None = None,
) -> str:
    """Run a server command; on failure raise with its output and the server's log tail.

    A failure whose every output line contains `tolerate` counts as success.
    """
    # Output goes to a file, not a pipe: a daemon keeps the pipe open and run() would hang.
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=60, check=False)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    lines = output.splitlines()
    tolerated = tolerate is not None and bool(lines) and all(tolerate in line for line in lines)
    if done.returncode != 0 and not tolerated:
        detail = f"{what} failed (exit {done.returncode}): {' '.join(args)}\n{output}"
        if log is not None:
            detail += f"\n--- tail of {log} ---\n{_tail(log)}"
        raise MailServerError(detail)
    return output


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (nobody may reap daemons here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _descendants(pid: int) -> list[int]:
    """PIDs of every live process below `pid`: the workers a master started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _terminate(pid_file: Path) -> None:
    """Stop the master whose PID we wrote, and wait until it and its workers are gone.

    Waiting for the workers too matters: a login process that outlives its master still holds
    the listening port, and a restart on the same port would fail. The workers get SIGTERM
    right after their master because Dovecot's master, told alone, waits about a second for
    its log process.
    """
    pid = _read_pid(pid_file)
    if pid is None or not _alive(pid):
        return
    workers = _descendants(pid)
    os.kill(pid, signal.SIGTERM)
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGTERM)
    family = [pid, *workers]
    deadline = time.monotonic() + _STOP_TIMEOUT
    while any(_alive(p) for p in family):
        if time.monotonic() > deadline:
            for straggler in filter(_alive, family):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(straggler, signal.SIGKILL)
            break
        time.sleep(0.01)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()


def _wait_for_greeting(port: int, expected: bytes, name: str, log: Path) -> None:
    """Block until the server answers on `port` with its greeting, so tests never race it."""
    deadline = time.monotonic() + _START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                if conn.recv(256).startswith(expected):
                    return
        except OSError as error:
            last_error = error
        time.sleep(0.02)
    tail = f"--- tail of {log} ---\n{_tail(log)}"
    raise MailServerError(f"{name} did not greet on 127.0.0.1:{port} ({last_error})\n{tail}")


class MailServers:
    """Dovecot and Postfix for one test session, with all state in one folder under /tmp.

    Mail sent with `send()` goes through Postfix (SMTP, no auth from 127.0.0.0/8) and Dovecot's
    LMTP into Maildirs; `mailbox()` and `wait_for()` read it back over IMAP. The users share
    one password, `password`.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        users: Iterable[str] = DEFAULT_USERS,
        password: str = PASSWORD,
        *,
        secure_address: str | None = None,
        submission: bool = False,
        namespace_prefix: str = "",
        separator: str = "/",
    ) -> None:
        """The options are additive: without them the servers are the ones every existing test knows.

        `secure_address` (a second loopback address such as 127.0.0.14): Dovecot listens there too and refuses LOGIN
        before TLS on it (on 127.0.0.1 it counts every connection as secured, FIELD-NOTES). `submission`: Postfix
        also listens on `submission_port` (STARTTLS required, then AUTH) and `smtps_port` (TLS from the first byte,
        AUTH LOGIN only), both authenticating through Dovecot's SASL socket and refusing mail without AUTH.
        `namespace_prefix` and `separator` shape the personal namespace: "INBOX." and "." as cPanel's Dovecot.
        """
        self.password = password
        self.secure_address = secure_address
        self.submission = submission
        self.namespace_prefix = namespace_prefix
        self.separator = separator
        self.users: list[str] = []
        # Short and traversable by the mail, dovecot and postfix users: unix socket paths
        # must stay short, and /root is closed to them.
        self.root = Path(tempfile.mkdtemp(prefix="mb-", dir="/tmp"))
        self.root.chmod(0o755)
        self._pick_ports()
        self.ca_file = self.root / "certs" / "ca.pem"
        self.lmtp = str(self.root / "dovecot" / "run" / "lmtp")
        self._dovecot_conf = self.root / "dovecot" / "dovecot.conf"
        self._dovecot_users = self.root / "dovecot" / "users"
        self._user_list = self.root / "dovecot" / "user-list"
        self._dovecot_log = self.root / "dovecot.log"
        self._dovecot_pid = self.root / "dovecot" / "run" / "master.pid"
        self._postfix_dir = self.root / "postfix"
        self._postfix_log = self.root / "postfix.log"
        # Queue and data stay outside the config folder, or `postfix check` warns about them.
        self._postfix_queue = self.root / "queue"
        self._postfix_pid = self._postfix_queue / "pid" / "master.pid"
        self._mailbox_map = self._postfix_dir / "virtual_mailboxes"
        self._configured = False
        self._users_version = 0
        for address in users:
            self.add_user(address)

    def _pick_ports(self) -> None:
        self.imap_port, self.imaps_port, self.smtp_port, self.submission_port, self.smtps_port = _free_ports(5)

    # -- availability -------------------------------------------------------------------

    @staticmethod
    def available() -> str | None:
        """None when Dovecot and Postfix can run here, else why not (a pytest skip reason)."""
        if os.geteuid() != 0:
            return "the mail servers must start as root (they switch to mail, dovecot, postfix)"
        missing = [name for name in _BINARIES if shutil.which(name, path=_SEARCH_PATH) is None]
        missing += [path for path in _DOVECOT_MODULES if not Path(path).exists()]
        for user in _SYSTEM_USERS:
            try:
                pwd.getpwnam(user)
            except KeyError:
                missing.append(f"user {user}")
        if missing:
            return f"Dovecot/Postfix not installed ({_INSTALL_HINT}): missing {', '.join(missing)}"
        return None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Write the configuration and start both servers; on failure leave nothing behind."""
        try:
            if not self._configured:
                self._configure()
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                try:
                    self.start_dovecot()
                    self.start_postfix()
                    return
                except MailServerError as error:
                    # A free port picked at run time can be taken before the server binds it.
                    if "Address already in use" not in str(error) or attempt == _PORT_ATTEMPTS:
                        raise
                    self.stop_postfix()
                    self.stop_dovecot()
                    self._pick_ports()
                    self._write_server_configs()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop both servers by their PIDs and remove the folder (idempotent)."""
        try:
            self.stop_postfix()
            self.stop_dovecot()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def start_dovecot(self) -> None:
        """Start Dovecot on the session's ports; Maildirs and UIDs survive a stop/start."""
        _run([_binary("dovecot"), "-c", str(self._dovecot_conf)], "dovecot", self._dovecot_log)
        _wait_for_greeting(self.imap_port, b"* OK", "Dovecot IMAP", self._dovecot_log)
        if self._postfix_running():
            # Mail deferred while Dovecot was down is delivered now, not after a backoff.
            self._postfix("flush")

    def stop_dovecot(self) -> None:
        """Stop Dovecot (connected IMAP clients are dropped, as in a real outage)."""
        _terminate(self._dovecot_pid)

    def start_postfix(self) -> None:
        """Check the configuration, then start Postfix; the queue survives a stop/start."""
        self._postfix("check")
        # `postfix start` would repeat the same slow checks unless told they were just run.
        (self._postfix_queue / "quick-start").touch()
        self._postfix("start")
        _wait_for_greeting(self.smtp_port, b"220", "Postfix SMTP", self._postfix_log)

    def stop_postfix(self) -> None:
        """Stop Postfix (mail already queued stays in the queue folder)."""
        _terminate(self._postfix_pid)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- users and mailboxes ------------------------------------------------------------

    def add_user(self, address: str) -> None:
        """Create a mailbox that takes mail and logins at once, without a restart."""
        address = address.strip().lower()
        local, _, domain = address.rpartition("@")
        if domain not in DOMAINS or not _LOCAL_PART.fullmatch(local):
            hosted = ", ".join(DOMAINS)
            raise ValueError(f"{address!r}: want a plain local part (no '+') at {hosted}")
        if address in self.users:
            return
        self.users.append(address)
        if self._configured:
            self._write_users()

    def set_password(self, address: str, password: str) -> None:
        """Change a user's password on the server, as a provider or an IT office would (the next login sees it)."""
        address = address.strip().lower()
        _write(self._dovecot_users / address, f"{address}:{{PLAIN}}{password}::::::\n")

    def dovecot_log_mark(self) -> int:
        """Where Dovecot's log ends now: count what happens after it with `failed_logins(since=mark)`."""
        return self._dovecot_log.stat().st_size if self._dovecot_log.exists() else 0

    def failed_logins(self, address: str, since: int = 0) -> int:
        """Logins Dovecot refused for `address` (wrong password) since a `dovecot_log_mark()`."""
        with open(self._dovecot_log, "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        needle = f"({address.lower()},"
        return sum(1 for line in text.splitlines() if "Password mismatch" in line and needle in line)

    def clear_mailboxes(self) -> None:
        """Leave every user with an empty INBOX and no other folder, as a fresh account.

        Expunging (not deleting the Maildirs) keeps UIDVALIDITY and lets UIDs keep rising, as
        on a real server. Postfix's queue is drained first: a mail (or bounce) the previous test left on its
        way would otherwise land in the next test's emptied mailbox.
        """
        self.wait_until_delivered()
        doveadm = [_binary("doveadm"), "-c", str(self._dovecot_conf)]
        everyone = ["-F", str(self._user_list)]
        folders = _run([*doveadm, "mailbox", "list", *everyone], "doveadm mailbox list")
        _run([*doveadm, "expunge", *everyone, "mailbox", "*", "all"], "doveadm expunge")
        if self.namespace_prefix:  # under a prefixed namespace "*" does not match INBOX itself
            _run([*doveadm, "expunge", *everyone, "mailbox", "INBOX", "all"], "doveadm expunge")
        by_user: dict[str, set[str]] = {}
        for line in folders.splitlines():
            user, _, folder = line.partition(" ")
            parts = folder.split(self.separator)
            top = self.separator.join(parts[:2]) if parts[0] == "INBOX" else parts[0]
            if top and top != "INBOX":
                by_user.setdefault(user, set()).add(top)
        for user, tops in by_user.items():
            # -r takes the children too; a parent that only exists by its children ("mailbot"
            # of "mailbot/procesados") is listed but reported missing, which is fine here.
            _run(
                [*doveadm, "mailbox", "delete", "-r", "-s", "-u", user, *sorted(tops)],
                "doveadm mailbox delete",
                tolerate="Mailbox doesn't exist",
            )

    # -- clients ------------------------------------------------------------------------

    def send(
        self,
        raw: bytes,
        from_addr: str,
        to_addrs: str | Sequence[str],
    ) -> dict[str, tuple[int, bytes]]:
        """Submit raw bytes through Postfix; returns the recipients refused (others accepted).

        Raises smtplib.SMTPRecipientsRefused when every recipient is refused.
        """
        with smtplib.SMTP(self.host, self.smtp_port, timeout=30) as client:
            return client.sendmail(from_addr, to_addrs, raw)

    def mailbox(self, user: str, folder: str = "INBOX") -> MailBoxUnencrypted:
        """A logged-in plain-IMAP client for `user` (usable as a context manager)."""
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted(self.host, self.imap_port, timeout=30).login(
            user, self.password, initial_folder=folder
        )

    def wait_for(
        self,
        user: str,
        count: int = 1,
        timeout: float = 20,
        folder: str = "INBOX",
    ) -> list[bytes]:
        """Raw bytes of every message in `folder`, once there are at least `count`.

        Reads with EXAMINE and BODY.PEEK[] so nothing is marked \\Seen: the code under test
        must find the mailbox as the sender left it. A folder that does not exist yet counts
        as empty.
        """
        deadline = time.monotonic() + timeout
        client = imaplib.IMAP4(self.host, self.imap_port, timeout=30)
        try:
            client.login(user, self.password)
            found = 0
            while True:
                status, _ = client.select(_quote(folder), readonly=True)
                if status == "OK":
                    messages = self._fetch_all(client)
                    found = len(messages)
                    if found >= count:
                        return messages
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{user} {folder}: {found} message(s) after {timeout} s, "
                        f"wanted {count}\n{self.log_text(lines=30)}"
                    )
                time.sleep(0.05)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def queued(self) -> list[str]:
        """Postfix's queue files not yet delivered (maildrop, incoming, active, deferred, hold): empty when done.

        A message leaves the queue only once Dovecot's LMTP has stored it (or once it bounced, and the bounce is
        queued in turn), so an empty queue means every mail Postfix accepted is in its mailbox now.
        """
        folders = ("maildrop", "incoming", "active", "deferred", "hold")
        return sorted(
            str(path.relative_to(self._postfix_queue))
            for name in folders
            if (self._postfix_queue / name).is_dir()
            for path in (self._postfix_queue / name).rglob("*")
            if path.is_file()
        )

    def wait_until_delivered(self, timeout: float = 60) -> None:
        """Return once Postfix's queue is empty: positive evidence that nothing it accepted is still on its way."""
        deadline = time.monotonic() + timeout
        while left := self.queued():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Postfix still holds {left} after {timeout} s\n{self.log_text(lines=30)}")
            time.sleep(0.05)

    @staticmethod
    def _fetch_all(client: imaplib.IMAP4) -> list[bytes]:
        status, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        if status != "OK":
            return []
        return [item[1] for item in data if isinstance(item, tuple)]

    def log_text(self, lines: int | None = None) -> str:
        """Both servers' logs (the last `lines` of each when given), for failure reports."""
        parts = []
        for name, path in (("dovecot", self._dovecot_log), ("postfix", self._postfix_log)):
            if lines is None:
                text = path.read_text(errors="replace") if path.exists() else "(no log)"
            else:
                text = _tail(path, lines)
            parts.append(f"--- {name}: {path} ---\n{text}")
        return "\n".join(parts)

    # -- configuration ------------------------------------------------------------------

    def _configure(self) -> None:
        """Write certificates, configs and maps; create the folders each server needs."""
        self._make_certificates()
        mail_dir = self.root / "mail"
        mail_dir.mkdir()
        os.chown(mail_dir, pwd.getpwnam("mail").pw_uid, grp.getgrnam("mail").gr_gid)
        (self.root / "dovecot" / "state").mkdir(parents=True)
        # `postfix check` creates the queue's subfolders, but not the queue folder itself.
        self._postfix_queue.mkdir()
        self._write_server_configs()
        _write(
            self._postfix_dir / "recipient_access",
            f"{REJECTED_ADDRESS} 550 5.1.1 mailbox refused by the test server\n"
            f"{DEFERRED_ADDRESS} 450 4.2.1 mailbox busy on the test server, try again later\n",
        )
        self._configured = True
        self._write_users()

    def _write_server_configs(self) -> None:
        """Write the files that name the ports (again when a port was taken)."""
        _write(self._dovecot_conf, self._dovecot_config())
        _write(self._postfix_dir / "main.cf", self._postfix_main())
        _write(self._postfix_dir / "master.cf", self._postfix_master())

    def _write_users(self) -> None:
        """Write each user's Dovecot passwd-file, the user list and Postfix's recipient map.

        One passwd-file per user because Dovecot re-checks a shared one at most once a second:
        a user added just after a login would stay unknown for up to a second. Postfix's
        smtpd restarts when the map's mtime changes (whole seconds), so every version of the
        map gets an mtime of its own, all in the past.
        """
        for user in self.users:
            path = self._dovecot_users / user
            if not path.exists():
                _write(path, f"{user}:{{PLAIN}}{self.password}::::::\n")
        _write(self._user_list, "".join(f"{user}\n" for user in self.users))
        self._users_version += 1
        stamp = time.time() - 2 * _BACKDATE_SECONDS + self._users_version
        _write(self._mailbox_map, "".join(f"{user} OK\n" for user in self.users), mtime=stamp)
        _run([_binary("postmap"), "-c", str(self._postfix_dir), str(self._mailbox_map)], "postmap")
        os.utime(self._mailbox_map.with_suffix(".db"), (stamp, stamp))

    def _make_certificates(self) -> None:
        """A throwaway CA and a server certificate for localhost / 127.0.0.1 (EC: instant)."""
        certs = self.root / "certs"
        certs.mkdir()
        openssl = _binary("openssl")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _run(
            [
                openssl, "req", "-x509", *ec, "-days", "7",
                "-keyout", str(certs / "ca.key"), "-out", str(self.ca_file),
                "-subj", "/O=mailbot tests/CN=mailbot test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            "openssl (CA)",
        )  # fmt: skip
        _write(
            certs / "server.ext",
            "basicConstraints = critical,CA:FALSE\n"
            "keyUsage = critical,digitalSignature\n"
            "extendedKeyUsage = serverAuth\n"
            f"subjectAltName = DNS:localhost,IP:127.0.0.1{self._extra_san()}\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid\n",
        )
        _run(
            [
                openssl, "req", *ec, "-subj", "/O=mailbot tests/CN=localhost",
                "-keyout", str(certs / "server.key"), "-out", str(certs / "server.csr"),
            ],
            "openssl (server key)",
        )  # fmt: skip
        _run(
            [
                openssl, "x509", "-req", "-in", str(certs / "server.csr"), "-days", "7",
                "-CA", str(self.ca_file), "-CAkey", str(certs / "ca.key"), "-set_serial",
                str(int.from_bytes(os.urandom(8), "big")), "-extfile", str(certs / "server.ext"),
                "-out", str(certs / "server.pem"),
            ],
            "openssl (server certificate)",
        )  # fmt: skip
        for key in ("ca.key", "server.key"):
            (certs / key).chmod(0o600)

    def _dovecot_config(self) -> str:
        root = self.root
        mail = pwd.getpwnam("mail")
        dh = f"ssl_dh = <{_DH_PARAMS}\n" if _DH_PARAMS.exists() else ""
        return f"""\
# One test session's Dovecot (tests/support/mailservers.py); all state under {root}.
instance_name = dovecot-{root.name}
base_dir = {root}/dovecot/run
state_dir = {root}/dovecot/state
log_path = {self._dovecot_log}
auth_verbose = yes
protocols = imap lmtp
listen = {", ".join(self._listen_addresses())}

ssl = yes
ssl_cert = <{root}/certs/server.pem
ssl_key = <{root}/certs/server.key
{dh}ssl_min_protocol = TLSv1.2
# Plain IMAP on 127.0.0.1 stays allowed; the IMAPS port is there to prove TLS verification. With a
# secure_address, LOGIN before STARTTLS is refused there (127.0.0.1 counts as secured either way).
disable_plaintext_auth = {"yes" if self.secure_address else "no"}
auth_mechanisms = plain login

# A wrong password must not slow later logins. Measured: without the anvil change below, the
# 2nd failure from 127.0.0.1 took 4.5 s and the next good login 4 s (login_trusted_networks
# does not help). A failure itself is still answered on Dovecot's 0.5 s failure tick.
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {self._dovecot_users}/%Lu
}}
userdb {{
  driver = passwd-file
  args = username_format=%Lu {self._dovecot_users}/%Lu
  default_fields = uid=mail gid=mail home={root}/mail/%Ld/%Ln
}}
mail_location = maildir:~/Maildir
mail_uid = mail
mail_gid = mail
first_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = {self.separator}
  prefix = {self.namespace_prefix}
}}

# planeacion+TOKEN@ is delivered to planeacion's INBOX, not to a folder named TOKEN.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
postmaster_address = postmaster@{DOMAIN}

protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    user = postfix
    mode = 0600
  }}
}}
{self._dovecot_sasl_service()}# Auth finds the penalty socket unusable and turns the per-IP penalty off.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def _postfix_main(self) -> str:
        pf = self._postfix_dir
        return f"""\
# One test session's Postfix (tests/support/mailservers.py); all state under {self.root}.
compatibility_level = 3.6
queue_directory = {self._postfix_queue}
data_directory = {self.root}/postfix-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {self._postfix_log}
maillog_file_prefixes = {self.root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $mydomain
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtpd_banner = $myhostname ESMTP mailbot test server

mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:{pf}/recipient_access
# A refused recipient must cost tests no sleep and never end the session.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 1000
message_size_limit = 52428800

# Empty, or a regexp alias map would turn the test domains into alias-only domains.
virtual_alias_domains =
virtual_alias_maps =
virtual_mailbox_domains = {" ".join(DOMAINS)}
virtual_mailbox_maps = hash:{self._mailbox_map}
virtual_transport = lmtp:unix:{self.lmtp}
recipient_delimiter = +
# Nothing ever leaves the machine; mail to other domains bounces at once.
default_transport = error:5.7.1 mail to other domains is disabled on the test server
relay_transport = $default_transport

# Mail deferred while Dovecot is stopped is retried within about a second.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0h

smtpd_tls_security_level = may
smtpd_tls_cert_file = {self.root}/certs/server.pem
smtpd_tls_key_file = {self.root}/certs/server.key
{self._postfix_sasl()}"""

    def _postfix_master(self) -> str:
        rows = [
            f"{self.host}:{self.smtp_port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        rows += self._postfix_submission_rows()
        header = "# service type private unpriv chroot wakeup maxproc command (chroot off)\n"
        return header + "".join(f"{row}\n" for row in rows)

    def _extra_san(self) -> str:
        return f",IP:{self.secure_address}" if self.secure_address else ""

    def _listen_addresses(self) -> list[str]:
        return [self.host, *([self.secure_address] if self.secure_address else [])]

    def _sasl_socket(self) -> str:
        return f"{self.root}/dovecot/run/auth-postfix"

    def _dovecot_sasl_service(self) -> str:
        """Dovecot's SASL socket for Postfix's submission (with `submission` only)."""
        if not self.submission:
            return ""
        return """\
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
"""

    def _postfix_sasl(self) -> str:
        if not self.submission:
            return ""
        return f"""
# Submission authenticates through Dovecot (the same users and passwords as IMAP).
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self._sasl_socket()}
"""

    def _postfix_submission_rows(self) -> list[str]:
        """Submission (587-like: STARTTLS, then AUTH) and SMTPS (465-like: TLS at once, AUTH LOGIN only).

        Both refuse a client that did not authenticate (`permit_sasl_authenticated, reject` also for local
        recipients), so a client that skipped AUTH, or STARTTLS before it, fails here as it would at a provider.
        SMTPS offers only LOGIN (`smtpd_sasl_mechanism_filter`) so that both PLAIN (smtplib's first choice, on
        submission) and LOGIN run for real.
        """
        if not self.submission:
            return []
        required = (
            " -o smtpd_sasl_auth_enable=yes"
            " -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
            " -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
        )
        return [
            f"{self.host}:{self.submission_port} inet n - n - - smtpd -o syslog_name=postfix/submission"
            f" -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes{required}",
            f"{self.host}:{self.smtps_port} inet n - n - - smtpd -o syslog_name=postfix/smtps"
            f" -o smtpd_tls_wrappermode=yes -o smtpd_sasl_mechanism_filter=login{required}",
        ]

    def _postfix(self, command: str) -> str:
        postfix = _binary("postfix")
        return _run([postfix, "-c", str(self._postfix_dir), command], f"postfix {command}",
                    self._postfix_log)  # fmt: skip

    def _postfix_running(self) -> bool:
        pid = _read_pid(self._postfix_pid)
        return pid is not None and _alive(pid)


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    from imap_tools.imap_utf7 import utf7_encode  # also turns "&" into "&-"

    folder = utf7_encode(folder).decode("ascii")
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
