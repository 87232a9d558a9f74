"""The attachments inside a TNEF stream (Outlook's winmail.dat), those of embedded messages included.

Read by this small reader rather than by tnefparse 1.4: that library loops on counts read from the file without
checking them against its length (a 4-byte MAPI count of 0xFFFFFFFF in an 11-byte object never returns), the same
bug class as ytnef's CVE-2017-9473. This reader only extracts attachments, and every loop in it consumes bytes or
stops.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from mailbot.adapters.mime.bounds import MAX_PARTS
from mailbot.adapters.mime.charsets import codec_for, decode_bytes


class TnefError(ValueError):
    """The bytes are not a TNEF stream, or one too damaged to find its attachments."""


_TNEF_SIGNATURE: Final = 0x223E9F78
_LEVEL_ATTACHMENT: Final = 2
_ATT_ATTACH_REND_DATA: Final = 0x9002  # starts each attachment
_ATT_ATTACH_TITLE: Final = 0x8010  # its 8.3 name
_ATT_ATTACH_DATA: Final = 0x800F  # its bytes
_ATT_ATTACHMENT: Final = 0x9005  # its MAPI properties (long name, data object)
_ATT_OEM_CODEPAGE: Final = 0x9007
_PR_DISPLAY_NAME: Final = 0x3001
_PR_ATTACH_DATA_OBJ: Final = 0x3701
_PR_ATTACH_FILENAME: Final = 0x3704
_PR_ATTACH_LONG_FILENAME: Final = 0x3707
_WANTED_PROPERTIES: Final = frozenset(
    {_PR_DISPLAY_NAME, _PR_ATTACH_DATA_OBJ, _PR_ATTACH_FILENAME, _PR_ATTACH_LONG_FILENAME}
)
_IMESSAGE_IID: Final = bytes.fromhex("0703020000000000c000000000000046")  # an embedded message in PR_ATTACH_DATA_OBJ
_MAPI_FIXED_SIZES: Final = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
                            0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_MAPI_STRING8: Final = 0x001E
_MAPI_UNICODE: Final = 0x001F
_MAPI_VARIABLE: Final = frozenset({0x0000, 0x000D, _MAPI_STRING8, _MAPI_UNICODE, 0x0102})
_MAPI_MULTI_VALUE: Final = 0x1000
_TNEF_MAX_DEPTH: Final = 3  # embedded messages inside embedded messages


@dataclass
class _TnefAttachment:
    title: str | None = None
    names: dict[int, str] = field(default_factory=dict)  # MAPI name properties by id
    data: bytes | None = None
    embedded: bytes | None = None  # a TNEF stream of an attached Outlook message

    def name(self) -> str | None:
        for prop in (_PR_ATTACH_LONG_FILENAME, _PR_ATTACH_FILENAME):
            if self.names.get(prop):
                return self.names[prop]
        return self.title or self.names.get(_PR_DISPLAY_NAME) or None


def read_tnef(data: bytes, depth: int = 0, *, notes: list[str] | None = None) -> list[tuple[str | None, bytes]]:
    """The (name, bytes) of the attachments in a TNEF stream, those of embedded messages included.

    Each object costs at least 11 bytes and each MAPI value at least 2, and counts are checked against the bytes
    left, so the work is linear in the size. Raises TnefError when the stream cannot be read at all; damage it reads
    past (keeping what came before) is described in `notes`, short English phrases.
    """
    notes = [] if notes is None else notes
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _TNEF_SIGNATURE:
        raise TnefError("not a TNEF stream")
    attachments: list[_TnefAttachment] = []
    codepage = "cp1252"
    for level, attribute, value in _tnef_objects(memoryview(data), notes):
        if level == _LEVEL_ATTACHMENT and attribute == _ATT_ATTACH_REND_DATA:
            if len(attachments) == MAX_PARTS:
                notes.append(f"holds more than {MAX_PARTS} attachments: the rest not read")
                break  # the caller keeps no more files than parts anyway
            attachments.append(_TnefAttachment())
        elif level == _LEVEL_ATTACHMENT and attachments:
            _tnef_attribute(attachments[-1], attribute, value, codepage, notes)
        elif attribute == _ATT_OEM_CODEPAGE and len(value) >= 4:
            codepage = codec_for(f"cp{struct.unpack_from('<I', value)[0]}") or "cp1252"
    files: list[tuple[str | None, bytes]] = []
    for attachment in attachments:
        if attachment.embedded is not None and depth < _TNEF_MAX_DEPTH:
            try:
                files.extend(read_tnef(attachment.embedded, depth + 1, notes=notes))
            except TnefError:
                notes.append("holds an embedded message that is not TNEF: kept as a file")
                files.append((attachment.name(), attachment.embedded))
        elif attachment.data is not None:
            files.append((attachment.name(), attachment.data))
    return files


def _tnef_objects(view: memoryview, notes: list[str]) -> Iterator[tuple[int, int, memoryview]]:
    """(level, attribute id, value) of each object: level u8, id u16, type u16, length u32, value, checksum u16."""
    offset = 6
    while offset + 11 <= len(view):
        level, attribute, _type, length = struct.unpack_from("<BHHI", view, offset)
        start = offset + 9
        if start + length + 2 > len(view):  # a truncated last object (or garbage at the end)
            notes.append("cut short: what came before the cut kept")
            return
        yield level, attribute, view[start : start + length]
        offset = start + length + 2


def _tnef_attribute(
    attachment: _TnefAttachment, attribute: int, value: memoryview, codepage: str, notes: list[str]
) -> None:
    if attribute == _ATT_ATTACH_TITLE:
        attachment.title = decode_bytes(bytes(value), codepage).rstrip("\x00") or None
    elif attribute == _ATT_ATTACH_DATA:
        attachment.data = bytes(value)
    elif attribute == _ATT_ATTACHMENT:
        for prop, kind, item in _mapi_properties(value, notes):
            _mapi_attachment_property(attachment, prop, kind, item, codepage)


def _mapi_attachment_property(attachment: _TnefAttachment, prop: int, kind: int, item: memoryview, cp: str) -> None:
    if prop == _PR_ATTACH_DATA_OBJ:
        blob = bytes(item)
        if kind == 0x000D and blob[:16] == _IMESSAGE_IID:
            attachment.embedded = blob[16:]
        elif attachment.data is None:
            attachment.data = blob[16:] if kind == 0x000D else blob
    elif kind == _MAPI_UNICODE:
        attachment.names[prop] = bytes(item).decode("utf-16-le", "replace").rstrip("\x00")
    elif kind == _MAPI_STRING8:
        attachment.names[prop] = decode_bytes(bytes(item), cp).rstrip("\x00")


def _mapi_properties(block: memoryview, notes: list[str]) -> Iterator[tuple[int, int, memoryview]]:
    """(property id, type, first value) of the wanted properties of a MAPI property list; stops at the first
    inconsistency (an unknown type, a count larger than the bytes left), keeping what came before."""
    try:
        (count,) = struct.unpack_from("<I", block, 0)
        offset = 4
        for _ in range(min(count, len(block) // 4)):
            kind, prop = struct.unpack_from("<HH", block, offset)
            offset = _skip_property_name(block, offset + 4, prop)
            first, offset = _mapi_value(block, offset, kind)
            if prop in _WANTED_PROPERTIES and first is not None:
                yield prop, kind & ~_MAPI_MULTI_VALUE, first
    except (struct.error, _MapiEnd):
        notes.append("attachment properties damaged: the rest of them not read (a long name may be missing)")
        return


class _MapiEnd(Exception):
    """A MAPI list that cannot be followed further."""


def _skip_property_name(block: memoryview, offset: int, prop: int) -> int:
    if prop < 0x8000:
        return offset
    (kind,) = struct.unpack_from("<I", block, offset + 16)  # after the property set GUID
    offset += 20
    if kind == 0:
        return offset + 4
    (length,) = struct.unpack_from("<I", block, offset)
    return offset + 4 + _pad4(length)


def _mapi_value(block: memoryview, offset: int, kind: int) -> tuple[memoryview | None, int]:
    """The first value of a property and the offset after all its values."""
    base = kind & ~_MAPI_MULTI_VALUE
    multi = bool(kind & _MAPI_MULTI_VALUE)
    if base in _MAPI_FIXED_SIZES:
        count = struct.unpack_from("<I", block, offset)[0] if multi else 1
        offset += 4 if multi else 0
        size = _MAPI_FIXED_SIZES[base] * count
        if size > len(block) - offset:
            raise _MapiEnd
        return block[offset : offset + size], offset + _pad4(size)
    if base not in _MAPI_VARIABLE:
        raise _MapiEnd
    (count,) = struct.unpack_from("<I", block, offset)
    offset += 4
    if count * 4 > len(block) - offset:
        raise _MapiEnd
    first: memoryview | None = None
    for _ in range(count):
        (length,) = struct.unpack_from("<I", block, offset)
        offset += 4
        if length > len(block) - offset:
            raise _MapiEnd
        first = block[offset : offset + length] if first is None else first
        offset += _pad4(length)
    return first, offset


def _pad4(length: int) -> int:
    return length + (-length % 4)
