"""Hostile and wrong attachments, built in memory in milliseconds: what secretarios (and attackers) send.

Every builder returns the file's bytes. The zips are written by hand (`raw_zip`) so that a test can forge what
`zipfile` would refuse to write: precompressed gigabytes, lying sizes, `../` names. The OLE files (.xls and
password-protected workbooks) are minimal compound files written by hand, so no xlwt or msoffcrypto is needed.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

from mailbot.domain.workbook_format import column_letter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

# ------------------------------------------------------------------------------------------------ raw zips


@dataclass(frozen=True)
class RawMember:
    name: str
    payload: bytes  # the bytes as stored in the archive (raw deflate, or the data itself when stored)
    crc: int
    size: int  # the declared uncompressed size
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0  # general-purpose bits: 0x1 = encrypted


def member(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> RawMember:
    payload = data
    if method == zipfile.ZIP_DEFLATED:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        payload = compressor.compress(data) + compressor.flush()
    return RawMember(name, payload, zlib.crc32(data), len(data), method)


def raw_zip(members: Iterable[RawMember]) -> bytes:
    """A zip archive exactly as described: names, declared sizes and CRCs are not checked."""
    out, central, count = bytearray(), bytearray(), 0
    for m in members:
        name = m.name.encode()
        sizes = (m.crc, len(m.payload), m.size, len(name))
        central += struct.pack("<IHHHHHH", 0x02014B50, 20, 20, m.flags, m.method, 0, 0x21)
        central += struct.pack("<IIIHHHHHII", *sizes, 0, 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<IHHHHH", 0x04034B50, 20, m.flags, m.method, 0, 0x21)
        out += struct.pack("<IIIHH", *sizes, 0) + name + m.payload
        count += 1
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + eocd)


# ------------------------------------------------------------------------------------------------ minimal xlsx

Value = str | int | float | None


def sheet_xml(
    rows: Mapping[int, Mapping[str, Value]] | None = None,
    *,
    dimension: str | None = None,
    merges: Sequence[str] = (),
    prolog: str = "",
) -> bytes:
    """A worksheet part: `rows` maps a row number to {"B": value} (str values become inline strings)."""
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}<worksheet xmlns="{MAIN_NS}">']
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    for number, cells in sorted((rows or {}).items()):
        parts.append(f'<row r="{number}">')
        parts.extend(_cell(f"{col}{number}", value) for col, value in cells.items())
        parts.append("</row>")
    parts.append("</sheetData>")
    if merges:
        parts.append(f'<mergeCells count="{len(merges)}">')
        parts.extend(f'<mergeCell ref="{ref}"/>' for ref in merges)
        parts.append("</mergeCells>")
    parts.append("</worksheet>")
    return "".join(parts).encode()


def _cell(ref: str, value: Value) -> str:
    if value is None:
        return f'<c r="{ref}"/>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font/></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="1"><xf/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
).encode()


def xlsx_members(sheets: Mapping[str, bytes], main_type: str = XLSX_MAIN) -> list[RawMember]:
    """The parts of a minimal valid workbook whose sheets are `sheets` (name → worksheet XML), in order."""
    n = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>"
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheet_list = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, start=1)
    )
    workbook = f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheet_list}</sheets></workbook>'
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    workbook_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'{sheet_rels}<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'
    )
    members = [
        member("[Content_Types].xml", content_types.encode()),
        member("_rels/.rels", rels.encode()),
        member("xl/workbook.xml", workbook.encode()),
        member("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
        member("xl/styles.xml", STYLES),
    ]
    members += [member(f"xl/worksheets/sheet{i}.xml", xml) for i, xml in enumerate(sheets.values(), start=1)]
    return members


def minimal_xlsx(sheets: Mapping[str, bytes] | None = None) -> bytes:
    """A valid workbook with one small `Metas` sheet unless told otherwise."""
    return raw_zip(xlsx_members(sheets or {"Metas": sheet_xml({5: {"A": "N°"}, 6: {"A": 1, "B": "x"}})}))


# ------------------------------------------------------------------------------------------------ bombs


@cache
def zip_bomb(gigabytes: int = 2) -> bytes:
    """A valid workbook whose `Metas` sheet expands to `gigabytes` GiB of XML whitespace (~2 MB per GiB zipped).

    Built in well under a second: deflate blocks ended with a full flush restart from an empty dictionary, so
    one compressed 1 MiB block of blanks can be repeated; only the CRC is computed over the real expansion.
    """
    head, tail = b'<worksheet xmlns="' + MAIN_NS.encode() + b'"><sheetData>', b"</sheetData></worksheet>"
    chunk = b" " * (1 << 20)
    repeats = gigabytes << 10
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    bomb = RawMember(
        "xl/worksheets/sheet1.xml", first + block * repeats + last, crc, len(head) + len(tail) + repeats * len(chunk)
    )
    members = xlsx_members({"Metas": b""})
    return raw_zip([*members[:-1], bomb])


def lying_sizes() -> bytes:
    """A sheet that declares 1 KB but inflates to 20 MB: zipfile stops at the declared size and fails the CRC."""
    real = sheet_xml({6: {"A": "x" * 100}}) + b" " * (20 << 20)
    honest = member("xl/worksheets/sheet1.xml", real)
    members = xlsx_members({"Metas": b""})
    return raw_zip([*members[:-1], RawMember(honest.name, honest.payload, honest.crc, 1000)])


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


def xml_bomb() -> bytes:
    """Billion laughs inside the `Metas` sheet of an otherwise valid workbook."""
    sheet = sheet_xml(prolog=BILLION_LAUGHS).replace(
        b"<sheetData>", b'<sheetData><row r="6"><c r="A6" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    )
    return minimal_xlsx({"Metas": sheet})


def xxe() -> bytes:
    """An external entity that would read /etc/passwd into a cell."""
    prolog = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    sheet = sheet_xml(prolog=prolog).replace(
        b"<sheetData>", b'<sheetData><row r="6"><c r="A6" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    )
    return minimal_xlsx({"Metas": sheet})


def xml_bomb_in_workbook_part() -> bytes:
    """Billion laughs in xl/workbook.xml, which openpyxl parses with lxml (no entity resolution) or defusedxml."""
    members = xlsx_members({"Metas": sheet_xml()})
    workbook = (
        f'<?xml version="1.0"?>{BILLION_LAUGHS}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    return raw_zip([member(m.name, workbook.encode()) if m.name == "xl/workbook.xml" else m for m in members])


def too_many_members(count: int = 1001) -> bytes:
    members = xlsx_members({"Metas": sheet_xml()})
    return raw_zip([*members, *(member(f"xl/media/image{i}.png", b"") for i in range(count))])


def forged_entry_count(entries: int = 150_000) -> bytes:
    """A 7 MB central directory of empty entries whose end record declares just one: opening it with zipfile
    would take seconds and over 100 MB. Local headers are left out: zipfile reads only the directory to open."""
    one = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0)
    directory = b"".join(one + f"{i:04x}"[-4:].encode() for i in range(entries))
    return directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), 0, 0)


def path_traversal() -> bytes:
    return raw_zip([*xlsx_members({"Metas": sheet_xml()}), member("../evil.sh", b"rm -rf /\n")])


def too_long(max_rows: int) -> bytes:
    return minimal_xlsx({"Metas": sheet_xml({6: {"B": "x"}, max_rows + 1: {"B": "fila de más"}})})


def too_wide(max_columns: int) -> bytes:
    column = column_letter(max_columns + 1)
    return minimal_xlsx({"Metas": sheet_xml({6: {"B": "x", column: "columna de más"}})})


def forged_dimension() -> bytes:
    """A sheet claiming to span A1:XFD1048576 (17 billion cells) while holding two."""
    return minimal_xlsx({"Metas": sheet_xml({6: {"B": "x"}}, dimension="A1:XFD1048576")})


# ------------------------------------------------------------------------------------------------ other kinds


def xlsm() -> bytes:
    members = xlsx_members({"Metas": sheet_xml()}, main_type=XLSM_MAIN)
    return raw_zip([*members, member("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 fake vba project")])


def xlsx_with_vba_only() -> bytes:
    """Declared as a plain workbook but carrying macros."""
    return raw_zip([*xlsx_members({"Metas": sheet_xml()}), member("xl/vbaProject.bin", b"vba")])


def zip_with_password() -> bytes:
    """A workbook zipped again with a password (7-Zip, WinRAR): its members carry the encryption flag."""
    members = xlsx_members({"Metas": sheet_xml()})
    return raw_zip(RawMember(m.name, m.payload, m.crc, m.size, m.method, flags=0x1) for m in members)


def docm() -> bytes:
    """A macro-enabled Word document: a zip with a macro main part, but not a workbook."""
    word = b"application/vnd.ms-word.document.macroEnabled.main+xml"
    types = b'<Types><Override PartName="/word/document.xml" ContentType="' + word + b'"/></Types>'
    return raw_zip([member("[Content_Types].xml", types), member("word/vbaProject.bin", b"vba")])


def ods() -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body><office:spreadsheet/>'
        "</office:body></office:document-content>"
    )
    return raw_zip(
        [
            member("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
            member("content.xml", content.encode()),
            member("META-INF/manifest.xml", b"<manifest/>"),
        ]
    )


def docx() -> bytes:
    word = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    types = b'<Types><Override PartName="/word/document.xml" ContentType="' + word + b'"/></Types>'
    return raw_zip([member("[Content_Types].xml", types), member("word/document.xml", b"<w:document/>")])


def csv_renamed() -> bytes:
    return "N°;Línea estratégica;Código meta producto\n1;Educación;010101\n".encode("cp1252")


def empty() -> bytes:
    return b""


def truncated() -> bytes:
    whole = minimal_xlsx()
    return whole[: len(whole) // 2]


def pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256))


# ------------------------------------------------------------------------------------------------ OLE files


def ole_file(streams: Mapping[str, bytes]) -> bytes:
    """A minimal OLE compound file (v3, 512-byte sectors) holding `streams` (at most 3, each under 60 KB).

    Streams are padded to 4 KiB so that none lives in the mini stream: short, and still what readers expect.
    """
    assert 1 <= len(streams) <= 3
    free, end, fat_sector, none = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sector, end]  # sector 0: the FAT itself; sector 1: the directory
    data, entries = bytearray(), [_dir_entry("Root Entry", 5, child=1, start=end, size=0)]
    for index, (name, payload) in enumerate(streams.items(), start=1):
        padded = payload.ljust(max(4096, -(-len(payload) // 512) * 512), b"\x00")
        first, count = len(fat), len(padded) // 512
        fat += [*range(first + 1, first + count), end]
        right = index + 1 if index < len(streams) else none
        entries.append(_dir_entry(name, 2, right=right, start=first, size=len(padded)))
        data += padded
    assert len(fat) <= 128
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,  # directory sectors (0 in version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,
        4096,  # mini stream cutoff
        end,  # first mini FAT sector
        0,
        end,  # first DIFAT sector
        0,
    ) + struct.pack("<109I", 0, *([free] * 108))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    directory = b"".join(entries).ljust(512, b"\x00")
    return header + fat_bytes + directory + bytes(data)


def _dir_entry(
    name: str, kind: int, *, start: int, size: int, child: int = 0xFFFFFFFF, right: int = 0xFFFFFFFF
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded),
        kind,
        1,
        0xFFFFFFFF,
        right,
        child,
        b"\x00" * 16,
        0,
        0,
        0,
        start,
        size,
    )


def legacy_xls() -> bytes:
    """Excel 97-2003: a BIFF8 `Workbook` stream (BOF … EOF) in an OLE file."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06)
    eof = struct.pack("<HH", 0x000A, 0)
    return ole_file({"Workbook": bof + eof})


def encrypted_xlsx() -> bytes:
    """What Excel writes for "Encrypt with password": an OLE file with EncryptionInfo and EncryptedPackage."""
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + b'<?xml version="1.0"?><encryption/>'
    package = struct.pack("<Q", 9000) + bytes(range(256)) * 36
    return ole_file({"EncryptionInfo": info, "EncryptedPackage": package})


def word_doc() -> bytes:
    return ole_file({"WordDocument": b"\xec\xa5" + b"\x00" * 100})


def all_files(max_rows: int = 5000, max_columns: int = 200) -> dict[str, bytes]:
    """The hostile set by file name, for the benchmark (each must be refused with F01)."""
    return {
        "zip-bomb-2GiB.xlsx": zip_bomb(),
        "xml-bomb.xlsx": xml_bomb(),
        "xxe.xlsx": xxe(),
        "encrypted.xlsx": encrypted_xlsx(),
        "legacy.xls": legacy_xls(),
        "calc.ods": ods(),
        "csv-renamed.xlsx": csv_renamed(),
        "macros.xlsm": xlsm(),
        "empty.xlsx": empty(),
        "truncated.xlsx": truncated(),
        "path-traversal.xlsx": path_traversal(),
        "forged-entry-count.xlsx": forged_entry_count(),
        "too-long.xlsx": too_long(max_rows),
        "too-wide.xlsx": too_wide(max_columns),
    }
