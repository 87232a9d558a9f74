"""The archive: content-addressed, idempotent, owner-only all the way down."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from mailbot.adapters.archive import FileArchive, Stored, sha256_of


def test_store_is_content_addressed_idempotent_and_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        archive = FileArchive(tmp_path / "archivo")
        when = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
        first = archive.store_message(b"raw message", when)
        again = archive.store_message(b"raw message", when)
        part = archive.store_attachment(b"PK\x03\x04 workbook", "xlsx")
        filed = archive.file_plan(
            part, vigencia=2027, dependencia="HAC", ronda="formulacion", version=2, outcome="accepted"
        )
    finally:
        os.umask(old)
    assert first == again
    assert first.sha256 == sha256_of(b"raw message")
    assert first.path == Path("recibidos") / "2027-01" / f"{first.sha256}.eml"
    assert archive.read(filed) == b"PK\x03\x04 workbook"
    assert filed.name.startswith("v02-accepted-")
    for path in [p for p in (tmp_path / "archivo").rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def test_a_stored_file_and_the_folders_made_for_it_are_synced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename or a mkdir is on disk only once its folder is fsynced: the archive is the record of what came in."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    archive = FileArchive(tmp_path / "archivo")
    stored = archive.store_message(b"raw message", dt.datetime(2027, 1, 15, tzinfo=dt.UTC))
    target = tmp_path / "archivo" / stored.path
    assert synced[-1] == str(target.parent)  # last: the folder, after the file's rename
    assert any(Path(path).name.startswith(".tmp-") for path in synced)  # the file itself, before
    for folder in (tmp_path / "archivo", tmp_path / "archivo" / "recibidos"):  # each new folder's entry
        assert str(folder) in synced


def _filed(archive: FileArchive, part: Stored) -> Path:
    return archive.file_plan(part, vigencia=2027, dependencia="HAC", ronda="formulacion", version=1, outcome="accepted")


def test_a_plan_filed_meanwhile_by_another_process_leaves_the_archived_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker and the fetcher's sweep may file the same version at once: the loser finds the name taken."""
    archive = FileArchive(tmp_path / "archivo")
    part = archive.store_attachment(b"PK\x03\x04 workbook", "xlsx")
    real_link = os.link

    def link_lost_the_race(source: Path, target: Path) -> None:
        real_link(source, target)  # the other process's link, made just before this one
        raise FileExistsError(17, "File exists", str(target))

    monkeypatch.setattr(os, "link", link_lost_the_race)
    filed = _filed(archive, part)
    assert archive.read(part.path) == b"PK\x03\x04 workbook"
    assert archive.read(filed) == b"PK\x03\x04 workbook"


def test_without_hard_links_the_plan_is_a_private_copy_and_the_original_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = FileArchive(tmp_path / "archivo")
    part = archive.store_attachment(b"PK\x03\x04 workbook", "xlsx")

    def no_hard_links(source: Path, target: Path) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_hard_links)
    filed = _filed(archive, part)
    assert _filed(archive, part) == filed  # filing again changes nothing
    assert archive.read(part.path) == b"PK\x03\x04 workbook"
    assert archive.read(filed) == b"PK\x03\x04 workbook"
    copy = tmp_path / "archivo" / filed
    assert copy.stat().st_ino != (tmp_path / "archivo" / part.path).stat().st_ino
    assert copy.stat().st_mode & 0o777 == 0o600
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".tmp-")]
