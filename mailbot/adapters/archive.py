"""The archive: every message and attachment received, stored by its SHA-256 before anything is decided.

Content-addressed, so storing the same bytes twice (a crash and a retry, a resync) writes nothing new, and no
file name ever comes from a sender. Once a plan is placed, a hard link (or a copy where links are impossible)
files it where the auxiliar administrativa looks: planes/<vigencia>/<dependencia>/<ronda>/v<version>-….xlsx.
Files are written atomically (temporary file, fsync, rename, fsync of the folder) and readable by the service
user only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mailbot.errors import StorageError

PIECE = 1 << 20  # bytes read at a time from a spooled message
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Stored:
    path: Path  # relative to the archive root
    sha256: str
    size: int


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def message_path(digest: str, received: dt.datetime) -> Path:
    """Where a received message lives, relative to the archive root: by month, named by its SHA-256."""
    return Path("recibidos") / received.strftime("%Y-%m") / f"{digest}.eml"


def attachment_path(digest: str, kind: str) -> Path:
    suffix = _SAFE.sub("", kind) or "bin"
    return Path("adjuntos") / digest[:2] / f"{digest}.{suffix}"


def plan_path(stored: Stored, *, vigencia: int, dependencia: str, ronda: str, version: int, outcome: str) -> Path:
    """planes/<vigencia>/<dependencia>/<ronda>/v<version>-<outcome>-<sha256 prefix>.xlsx: no sender's name in it."""
    name = f"v{version:02d}-{_SAFE.sub('', outcome)}-{stored.sha256[:12]}.xlsx"
    return Path("planes") / str(vigencia) / _SAFE.sub("", dependencia) / _SAFE.sub("", ronda) / name


class FileArchive:
    """The archive on a local folder (the `Archive` port of mailbot.ports)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def store_message(self, raw: bytes, received: dt.datetime) -> Stored:
        digest = sha256_of(raw)
        return self._store(message_path(digest, received), raw, digest)

    def store_message_file(self, source: Path, received: dt.datetime) -> Stored:
        """A spooled message, hashed and copied in PIECE-sized reads: a 50 MB message never sits in memory."""
        try:
            digest = hashlib.sha256()
            with source.open("rb") as handle:
                while piece := handle.read(PIECE):
                    digest.update(piece)
            size = source.stat().st_size
        except OSError as exc:
            raise StorageError(f"cannot read the fetched message {source.name}: {exc}") from exc
        relative = message_path(digest.hexdigest(), received)
        return self._write(relative, digest.hexdigest(), size, lambda out: _copy(source, out))

    def store_attachment(self, data: bytes, kind: str) -> Stored:
        digest = sha256_of(data)
        return self._store(attachment_path(digest, kind), data, digest)

    def file_plan(
        self, stored: Stored, *, vigencia: int, dependencia: str, ronda: str, version: int, outcome: str
    ) -> Path:
        """Where people look for a version: a link to the content-addressed file, named by what it is."""
        relative = plan_path(
            stored, vigencia=vigencia, dependencia=dependencia, ronda=ronda, version=version, outcome=outcome
        )
        target, source = self.root / relative, self.root / stored.path
        try:
            self._folder(target.parent)
            if target.exists():
                return relative
            try:
                os.link(source, target)
            except FileExistsError:
                pass  # filed meanwhile by another process (a worker and the fetcher's sweep): the same file
            except OSError:  # no hard links here: a copy, written aside and renamed, never opened in place (the
                # name may be a link to the archived file itself, which writing into it would empty)
                return self._write(relative, stored.sha256, stored.size, lambda out: _copy(source, out)).path
            _sync_folder(target.parent)  # filed_as is committed after this: the entry must be on disk
        except OSError as exc:
            raise StorageError(f"cannot file the plan in the archive ({target}): {exc}") from exc
        return relative

    def open(self, relative: Path | str) -> BinaryIO:
        try:
            return (self.root / relative).open("rb")
        except OSError as exc:
            raise StorageError(f"cannot read {relative} from the archive: {exc}") from exc

    def read(self, relative: Path | str) -> bytes:
        try:
            return (self.root / relative).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {self.root / relative} from the archive: {exc.strerror or exc}") from exc

    def _store(self, relative: Path, data: bytes, digest: str) -> Stored:
        return self._write(relative, digest, len(data), lambda out: out.write(data))

    def _write(self, relative: Path, digest: str, size: int, fill: Callable[[BinaryIO], object]) -> Stored:
        target = self.root / relative
        try:
            if target.exists() and target.stat().st_size == size:
                return Stored(relative, digest, size)
            self._folder(target.parent)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    fill(out)
                    out.flush()
                    os.fsync(out.fileno())
                Path(temporary).chmod(0o600)
                Path(temporary).replace(target)
                _sync_folder(target.parent)  # the rename itself survives a power cut only once its folder is synced
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write to the archive ({target.parent}): {exc}") from exc
        return Stored(relative, digest, size)

    def _folder(self, folder: Path) -> None:
        """Create `folder` and every missing parent owner-only (mkdir's mode applies to the last one only)."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir(mode=0o700, exist_ok=True)
            _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that the entries just made in it (a renamed file, a new folder) are on disk too."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _copy(source: Path, out: BinaryIO) -> None:
    with source.open("rb") as handle:
        shutil.copyfileobj(handle, out, PIECE)
