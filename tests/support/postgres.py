"""A real PostgreSQL server on loopback, private to one test session (or one benchmark run).

Why a real server: the multi-worker guarantees rest on PostgreSQL's own locking (`FOR UPDATE SKIP LOCKED`,
advisory locks that vanish with their connection), which nothing else reproduces. The server lives in one folder
under /tmp (data, Unix socket, log), listens on 127.0.0.1 on a port chosen at run time, runs as the `postgres` OS
user when the tests run as root (PostgreSQL refuses to run as root), and is stopped by the PID we started.
Durability is traded for speed (`fsync=off`): the folder is thrown away at the end.

Each test gets an empty database of its own (`CREATE DATABASE`, about 50 ms); the test migrates it as it
would a SQLite file (`mailbot db upgrade` or `setup.upgrade_storage`: about 65 ms on PostgreSQL), so "upgraded
from empty" is tested on both engines. A migrated template was tried and brought nothing measurable.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "run .ci/install-postgres.sh as root"
SUPERUSER = "postgres"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 15.0


class PostgresError(RuntimeError):
    """The server failed to initialise, start or answer; the message carries its log tail."""


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres (Debian's layout)."""
    found = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        if (folder / "initdb").is_file() and (folder / "postgres").is_file() and folder.parent.name.isdigit():
            found.append((int(folder.parent.name), folder))
    return max(found)[1] if found else None


def unavailable() -> str | None:
    """None when a server can start here, else why not (a pytest skip reason)."""
    if binaries() is None:
        return f"PostgreSQL server binaries not installed ({INSTALL_HINT})"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return f"no '{SUPERUSER}' OS user to run the server as ({INSTALL_HINT})"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One throwaway cluster: `start()`, `new_database()` as often as needed, `stop()`."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise PostgresError(f"PostgreSQL not installed ({INSTALL_HINT})")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="mb-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._counter = itertools.count(1)
        self._user = SUPERUSER if os.geteuid() == 0 else None  # the OS user the server runs as

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """initdb and start on loopback; on failure leave nothing behind."""
        try:
            self._initdb()
            self._launch()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Fast shutdown of the server we started (by its PID), then remove the folder. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back open transactions, close clients
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"t{os.getpid()}_{next(self._counter)}"
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def execute(self, sql: str, database: str = "postgres") -> None:
        """One statement in autocommit (CREATE/DROP DATABASE refuse a transaction)."""
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname=database, autocommit=True) as c:
            c.execute(sql.encode())

    # -- steps --------------------------------------------------------------------------

    def _run(self, *args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, user=self._user)
        if done.returncode != 0:
            raise PostgresError(f"{' '.join(args)} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")

    def _initdb(self) -> None:
        self.socket_dir.mkdir(parents=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            self.root.chmod(0o755)  # traversable by the server's user; the data folder itself is 0700
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",  # loopback and a private socket only, for one test session
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def _launch(self) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            "shared_buffers": "64MB",
            "logging_collector": "off",
        }
        args = [str(self.bindir / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, user=self._user, start_new_session=True
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise PostgresError(f"postgres exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                with psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname="postgres"):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresError(f"postgres did not answer on {self.port}: {exc}\n{self.log_tail()}") from exc
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


# ------------------------------------------------------------------------------------------------ the session's


_SESSION: PostgresServer | None = None


def session_server() -> PostgresServer:
    """The server shared by this test session (started on first use; `stop_session_server` ends it)."""
    global _SESSION
    if _SESSION is None:
        server = PostgresServer()
        server.start()
        _SESSION = server
    return _SESSION


def stop_session_server() -> None:
    global _SESSION
    server, _SESSION = _SESSION, None
    if server is not None:
        with contextlib.suppress(Exception):
            server.stop()
