"""What an attachment really is, from its bytes alone (never its name or MIME type).

Secretarios send what their computer gives them: a legacy .xls, a LibreOffice .ods, a CSV renamed to .xlsx, a
password-protected workbook (which is an OLE file, not a zip), a PDF. openpyxl reports most of these as
`BadZipFile`; sniffing first lets the answer say which case it is and how to fix it.

Nothing here parses XML or decompresses more than two tiny zip members whose declared sizes are checked first,
so sniffing a hostile file is cheap.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from enum import StrEnum
from typing import Final


class FileKind(StrEnum):
    XLSX = "xlsx"  # an Office Open XML workbook (also .xltx templates): the only kind mailbot reads
    XLSM = "xlsm"  # macro-enabled workbook or template
    XLSB = "xlsb"  # Excel binary workbook (a zip, but not XML)
    XLS = "xls"  # Excel 97-2003 (BIFF in an OLE compound file)
    ENCRYPTED = "encrypted"  # password-protected (an OLE container holding EncryptedPackage) or encrypted zip
    ODS = "ods"  # OpenDocument spreadsheet (LibreOffice, OpenOffice)
    ZIP_OTHER = "zip_other"  # any other zip: a .zip folder, a .docx, another OpenDocument file
    CORRUPT_ZIP = "corrupt_zip"  # starts like a zip but cannot be opened (truncated download, damaged file)
    PDF = "pdf"
    CSV_TEXT = "csv_text"  # plain text with delimiters or markup: CSV, or HTML/XML saved with an Excel name
    EMPTY = "empty"  # no bytes, or only blanks and NULs
    UNKNOWN = "unknown"


OLE_MAGIC: Final = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC: Final = b"PK"
#: A zip that may hold more entries than this is not opened by `sniff` (zipfile would build every one in memory).
SNIFF_MAX_MEMBERS: Final = 10_000
_MIN_DIRECTORY_ENTRY: Final = 46  # bytes of a central-directory entry with an empty name
_SMALL_MEMBER: Final = 1 << 20  # [Content_Types].xml and mimetype are read only when declared at most this big
_TEXT_HEAD: Final = 64 * 1024
_DELIMITERS: Final = (",", ";", "\t", "|", "<")
_ODS_MIMETYPE: Final = b"application/vnd.oasis.opendocument.spreadsheet"
_ENCRYPTION_STREAMS: Final = frozenset({"encryptioninfo", "encryptedpackage", "\x06dataspaces"})
_XLS_STREAMS: Final = frozenset({"workbook", "book"})


def sniff(data: bytes) -> FileKind:
    """The file's kind from its leading bytes and, for zips and OLE files, their directory."""
    if not data.strip(b"\x00 \t\r\n"):
        return FileKind.EMPTY
    if data.startswith(OLE_MAGIC):
        return _sniff_ole(data)
    if data.startswith(ZIP_MAGIC):
        return _sniff_zip(data)
    if b"%PDF-" in data[:1024]:
        return FileKind.PDF
    if _looks_like_delimited_text(data[:_TEXT_HEAD]):
        return FileKind.CSV_TEXT
    return FileKind.UNKNOWN


# ------------------------------------------------------------------------------------------------ zip


def zip_entry_bound(data: bytes) -> int | None:
    """At most how many entries `zipfile` would build for this zip; None when it has no end-of-directory record.

    Read by hand so that a zip holding hundreds of thousands of entries is refused before `zipfile` builds them all
    (seconds and over 100 MB for a 15 MB file). The declared count can be forged low, but zipfile reads exactly the
    declared directory size, and an entry takes at least 46 bytes of it: the larger of the two is a sound bound.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    entries, size = struct.unpack_from("<HI", data, end + 10)
    locator = end - 20
    if (entries == 0xFFFF or size == 0xFFFFFFFF) and locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data[offset : offset + 4] == b"PK\x06\x06":
            entries, size = struct.unpack_from("<QQ", data, offset + 32)
    return max(int(entries), int(size) // _MIN_DIRECTORY_ENTRY)


def _sniff_zip(data: bytes) -> FileKind:
    count = zip_entry_bound(data)
    if count is None:
        return FileKind.CORRUPT_ZIP
    if count > SNIFF_MAX_MEMBERS:
        return FileKind.ZIP_OTHER
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _zip_kind(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError, zlib.error):
        # RuntimeError: also NotImplementedError (an unknown compression method); the rest: a damaged archive.
        return FileKind.CORRUPT_ZIP


def _zip_kind(archive: zipfile.ZipFile) -> FileKind:
    infos = {info.filename: info for info in archive.infolist()}
    if any(info.flag_bits & 0x1 for info in infos.values()):  # a zip encrypted with a password (e.g. by 7-Zip)
        return FileKind.ENCRYPTED
    if "mimetype" in infos:
        mimetype = _small_member(archive, infos["mimetype"]).strip()
        return FileKind.ODS if mimetype.startswith(_ODS_MIMETYPE) else FileKind.ZIP_OTHER  # also templates
    if "[Content_Types].xml" not in infos:
        looks_like_excel = any(name.startswith("xl/") for name in infos)
        return FileKind.CORRUPT_ZIP if looks_like_excel else FileKind.ZIP_OTHER
    content_types = _small_member(archive, infos["[Content_Types].xml"]).lower()
    has_vba = any(name.lower().endswith("vbaproject.bin") for name in infos)
    return _office_kind(content_types, has_vba)


def _office_kind(content_types: bytes, has_vba: bool) -> FileKind:
    """The workbook kind from the main part's content type (searched as bytes: no XML parser involved)."""
    if _XLSB_MAIN in content_types:
        return FileKind.XLSB
    if any(main in content_types for main in _XLSM_MAINS):
        return FileKind.XLSM
    if any(main in content_types for main in _XLSX_MAINS):
        return FileKind.XLSM if has_vba else FileKind.XLSX
    return FileKind.ZIP_OTHER  # a .docx, a .pptx, …


# Main-part content types, lower-cased (an embedded workbook's type has no ".main+xml": it cannot match).
_XLSB_MAIN: Final = b"application/vnd.ms-excel.sheet.binary.macroenabled.main"
_XLSM_MAINS: Final = tuple(
    f"application/vnd.ms-excel.{kind}.macroenabled.main+xml".encode() for kind in ("sheet", "template", "addin")
)
_XLSX_MAINS: Final = tuple(
    f"application/vnd.openxmlformats-officedocument.spreadsheetml.{kind}.main+xml".encode()
    for kind in ("sheet", "template")
)


def _small_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, or b"" when it declares more than a small file may (declared sizes are enforced on read)."""
    if info.file_size > _SMALL_MEMBER:
        return b""
    return archive.read(info)


# ------------------------------------------------------------------------------------------------ OLE


def _sniff_ole(data: bytes) -> FileKind:
    names = _ole_stream_names(data)
    if names & _ENCRYPTION_STREAMS or (not names and _has_utf16_name(data, _ENCRYPTION_STREAMS)):
        return FileKind.ENCRYPTED
    if names & _XLS_STREAMS or (not names and _has_utf16_name(data, _XLS_STREAMS)):
        return FileKind.XLS
    return FileKind.UNKNOWN  # a Word .doc, an Outlook .msg, …


def _ole_stream_names(data: bytes) -> set[str]:
    """Lower-cased entry names of an OLE compound file's directory; empty when it cannot be walked.

    Minimal by design: the FAT comes from the header's 109 DIFAT slots only (enough for the files that pass the
    attachment size limit with 4 KiB sectors, and for most with 512-byte ones); a byte search backs it up.
    """
    try:
        sector_size = 1 << struct.unpack_from("<H", data, 30)[0]
        if sector_size not in (512, 4096):
            return set()
        fat = _ole_fat(data, sector_size)
        (sector,) = struct.unpack_from("<I", data, 48)
        names: set[str] = set()
        for _ in range(min(len(fat), 10_000)):  # bounded: a cyclic chain cannot loop forever
            if sector >= len(fat):
                break
            names |= _ole_directory_names(data[(sector + 1) * sector_size : (sector + 2) * sector_size])
            sector = fat[sector]
        return names
    except (struct.error, UnicodeDecodeError):
        return set()


def _ole_fat(data: bytes, sector_size: int) -> list[int]:
    difat = struct.unpack_from("<109I", data, 76)
    fat: list[int] = []
    for sector in difat:
        if sector >= 0xFFFFFFFA:  # free or end-of-chain markers
            continue
        start = (sector + 1) * sector_size
        chunk = data[start : start + sector_size]
        fat.extend(struct.unpack(f"<{len(chunk) // 4}I", chunk[: len(chunk) // 4 * 4]))
    return fat


def _ole_directory_names(sector: bytes) -> set[str]:
    names: set[str] = set()
    for start in range(0, len(sector) - 127, 128):
        entry = sector[start : start + 128]
        (name_bytes,) = struct.unpack_from("<H", entry, 64)
        if entry[66] in (1, 2) and 2 <= name_bytes <= 64:  # storage or stream
            names.add(entry[: name_bytes - 2].decode("utf-16-le").lower())
    return names


def _has_utf16_name(data: bytes, names: frozenset[str]) -> bool:
    """Byte search for directory names (UTF-16LE, NUL-terminated) when the directory walk found nothing."""
    lowered = data.lower()  # ASCII-only lowering keeps UTF-16LE ASCII names comparable
    return any((name + "\x00").encode("utf-16-le") in lowered for name in names)


# ------------------------------------------------------------------------------------------------ text


def _looks_like_delimited_text(head: bytes) -> bool:
    text = _decode_text(head)
    if text is None:
        return False
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    return bool(lines) and any(d in lines[0] for d in _DELIMITERS)


def _decode_text(head: bytes) -> str | None:
    """The bytes as text when they are text: a BOM'd UTF-16/UTF-8, plain UTF-8 or Windows-1252."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig" and exc.start >= len(head) - 3:  # a character cut by the head's end
                text = head[: exc.start].decode(encoding)
            else:
                continue
        controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")
        return text if controls <= len(text) // 100 else None
    return None
