"""The annotated copy by patching the workbook's XML: the zip is copied and only the parts that change are written.

A full openpyxl load and save took ~0.2 s per correction (issue 19). Here the sheets with marked cells are
patched as text, row by row, without a DOM: a marked cell gets a style index that points to a copy of its own
cell format with the finding's fill (appended to `styles.xml`), a total typed over gets its formula back, and a
sheet with comments gets a comments part and its VML drawing. The `Correcciones` list is a new sheet part written
here. Everything else (formulas, data validations, shared or inline strings, other styles) is copied as is.

What this patch does not handle raises `Unpatchable` and the caller annotates with openpyxl instead: a workbook
whose parts use a namespace prefix, rows or cells without their reference, a marked sheet whose VML drawing has
form controls or threaded comments, or a `Correcciones` sheet that is not the first one.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from mailbot.adapters.workbook.annotate_plan import (
    COMMENT_AUTHOR,
    CORRECTIONS_TITLE,
    ERROR_FILL,
    HEADERS,
    LINK_FONT,
    SEVERITY_NAME,
    SUMMARY_HEIGHT,
    WARNING_FILL,
    WIDTHS,
    Listed,
    Mark,
    SheetInfo,
    cell_marks,
    comment_size,
    corrections_list,
    corrections_summary,
)
from mailbot.adapters.workbook.cells import MAX_LINES
from mailbot.adapters.workbook.style import HEADER_FILL, HEADER_FONT, TITLE_FONT
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import SHEET_CORRECTIONS

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_WORKSHEET_TYPE = f"{REL_NS}/worksheet"
_COMMENTS_TYPE = f"{REL_NS}/comments"
_VML_TYPE = f"{REL_NS}/vmlDrawing"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"

_ROW_START = re.compile(rb"<row\b([^>]*?)(/?)>")
_C = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_ROW_NUMBER = re.compile(rb'\br="([0-9]+)"')
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)
_TAB_SELECTED = re.compile(rb'\stabSelected="(?:1|true)"')
#: Elements that follow `legacyDrawing` in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_LEGACY: tuple[bytes, ...] = (b"<legacyDrawingHF", b"<drawingHF", b"<picture", b"<oleObjects", b"<controls")
_AFTER_LEGACY += (b"<webPublishItems", b"<tableParts", b"<extLst", b"</worksheet>")


class Unpatchable(Exception):
    """The workbook has something the XML patch does not handle: annotate it with openpyxl."""


def patched_copy(data: bytes, findings: list[Finding]) -> bytes:
    """The annotated copy of `data` (which has passed the reader), or `Unpatchable`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            return _Patch(source, findings).run()
    except (KeyError, IndexError, ValueError, struct.error, ElementTree.ParseError, zipfile.BadZipFile) as why:
        raise Unpatchable(f"{type(why).__name__}: {why}") from why


def _part(target: str, folder: str) -> str:
    """A relationship target as a zip member name."""
    if target.startswith("/"):
        return target[1:]
    parts: list[str] = [p for p in folder.split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _rels_path(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """`tag` (an element's start tag) with attribute `name` set to `value`."""
    pattern = re.compile(rb"\s" + re.escape(name) + rb'="[^"]*"')
    new = b" " + name + b'="' + value + b'"'
    if pattern.search(tag):
        return pattern.sub(lambda _m: new, tag, count=1)
    end = tag.rfind(b"/>") if tag.endswith(b"/>") else tag.rfind(b">")
    return tag[:end] + new + tag[end:]


def _drop_attr(tag: bytes, name: bytes) -> bytes:
    return re.sub(rb"\s" + re.escape(name) + rb'="[^"]*"', b"", tag, count=1)


def _text(value: str) -> bytes:
    return escape(value).encode()


@dataclass
class _Styles:
    """`styles.xml`, patched as text: fonts, fills and cell formats are appended, nothing else moves."""

    xml: bytes
    added: dict[str, list[bytes]] = field(default_factory=lambda: {"fonts": [], "fills": [], "cellXfs": []})
    counts: dict[str, int] = field(default_factory=dict)
    xfs: list[bytes] = field(default_factory=list)
    marked: dict[tuple[int, bool], int] = field(default_factory=dict)
    fill_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if re.search(rb"<\w+:styleSheet\b", self.xml):
            raise Unpatchable("styles.xml uses a namespace prefix")
        for section, child in (("fonts", b"<font\\b"), ("fills", b"<fill\\b"), ("cellXfs", b"<xf\\b")):
            body = self._body(section)
            self.counts[section] = len(re.findall(child, body))
        if self.counts["fills"] < 2 or not re.search(rb"<borders\b[^>]*>\s*<border\b", self.xml):
            raise Unpatchable("styles.xml lacks the default fills or borders")
        if not re.search(rb"<cellStyleXfs\b[^>]*>\s*<xf\b", self.xml):
            raise Unpatchable("styles.xml has no cell style formats")
        self.xfs = _XF.findall(self._body("cellXfs"))

    def _body(self, section: str) -> bytes:
        match = re.search(rb"<" + section.encode() + rb"\b[^>]*>(.*?)</" + section.encode() + rb">", self.xml, re.S)
        if match is None:
            raise Unpatchable(f"styles.xml has no <{section}>")
        return match.group(1)

    def _add(self, section: str, element: bytes) -> int:
        self.added[section].append(element)
        return self.counts[section] + len(self.added[section]) - 1

    def fill(self, rgb: str) -> int:
        if rgb not in self.fill_ids:
            element = f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/></patternFill></fill>'
            self.fill_ids[rgb] = self._add("fills", element.encode())
        return self.fill_ids[rgb]

    def font(
        self, *, bold: bool = False, size: float | None = None, rgb: str | None = None, underline: bool = False
    ) -> int:
        parts = "<b/>" if bold else ""
        parts += '<u val="single"/>' if underline else ""
        parts += f'<sz val="{size:g}"/>' if size is not None else ""
        parts += f'<color rgb="{rgb}"/>' if rgb is not None else ""
        return self._add("fonts", f"<font>{parts}</font>".encode())

    def xf(self, *, font: int = 0, fill: int = 0, alignment: str = "", quote: bool = False) -> int:
        attrs = f'numFmtId="0" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
        attrs += ' applyFont="1"' if font else ""
        attrs += ' applyFill="1"' if fill else ""
        attrs += ' quotePrefix="1"' if quote else ""
        if alignment:
            return self._add("cellXfs", f'<xf {attrs} applyAlignment="1"><alignment {alignment}/></xf>'.encode())
        return self._add("cellXfs", f"<xf {attrs}/>".encode())

    def marked_xf(self, style: int, error: bool) -> int:
        """The cell format `style` with the red or amber fill: a copy, so every other cell keeps its own."""
        key = (style, error)
        if key not in self.marked:
            if not 0 <= style < len(self.xfs):
                raise Unpatchable(f"cell style {style} out of range")
            fill = self.fill(_rgb(ERROR_FILL if error else WARNING_FILL))
            original = self.xfs[style]
            start = original[: original.index(b">") + 1]
            rest = original[len(start) :]
            start = _set_attr(_set_attr(start, b"fillId", str(fill).encode()), b"applyFill", b"1")
            self.marked[key] = self._add("cellXfs", start + rest)
        return self.marked[key]

    def result(self) -> bytes:
        xml = self.xml
        for section, elements in self.added.items():
            if not elements:
                continue
            name = section.encode()
            match = re.search(rb"<" + name + rb"\b[^>]*>", xml)
            close = xml.index(b"</" + name + b">")
            if match is None:
                raise Unpatchable(f"styles.xml has no <{section}>")
            start = _set_attr(match.group(0), b"count", str(self.counts[section] + len(elements)).encode())
            xml = xml[: match.start()] + start + xml[match.end() : close] + b"".join(elements) + xml[close:]
        return xml


class _Patch:
    def __init__(self, source: zipfile.ZipFile, findings: list[Finding]) -> None:
        self.source = source
        self.findings = findings
        self.names = set(source.namelist())
        self.lower_names = {name.lower() for name in self.names}
        self.out: dict[str, bytes] = {}  # parts written anew (replacing or added)
        self.dropped: set[str] = set()
        self.content_types = source.read("[Content_Types].xml")
        self.vml_blocks = 0  # the next free block of 1024 VML shape ids (0: not looked up yet)

    # -- the package -------------------------------------------------------------------------------------------

    def _free_name(self, pattern: str) -> str:
        number = 1
        while pattern.format(number).lower() in self.lower_names:
            number += 1
        name = pattern.format(number)
        self.lower_names.add(name.lower())
        return name

    def _override(self, part: str, content_type: str) -> None:
        element = f'<Override PartName="/{part}" ContentType="{content_type}"/>'.encode()
        self.content_types = self.content_types.replace(b"</Types>", element + b"</Types>")

    def _relationships(self, part: str) -> tuple[bytes, dict[str, tuple[str, str]]]:
        """The rels file of `part` (or a new empty one) and its relationships: id → (type, member name)."""
        path = _rels_path(part)
        xml = self.out.get(path) or (self.source.read(path) if path in self.names else None)
        if xml is None:
            xml = f'<Relationships xmlns="{PKG_REL_NS}"></Relationships>'.encode()
        folder = part.rpartition("/")[0]
        rels = {
            rel.get("Id", ""): (rel.get("Type", ""), _part(rel.get("Target", ""), folder))
            for rel in ElementTree.fromstring(xml)
            if rel.get("TargetMode") != "External"
        }
        return xml, rels

    def _relate(self, part: str, rel_type: str, target: str) -> str:
        xml, rels = self._relationships(part)
        if b"</Relationships>" not in xml:
            raise Unpatchable(f"unusual relationships of {part}")
        number = len(rels) + 1
        while f"rIdMb{number}" in rels:
            number += 1
        rel_id = f"rIdMb{number}"
        element = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="/{target}"/>'.encode()
        self.out[_rels_path(part)] = xml.replace(b"</Relationships>", element + b"</Relationships>")
        return rel_id

    # -- the whole patch ---------------------------------------------------------------------------------------

    def run(self) -> bytes:
        _, root_rels = self._relationships("")
        workbook_part = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), None)
        if workbook_part is None:
            raise Unpatchable("no workbook part")
        workbook_xml = self.source.read(workbook_part)
        if not re.search(rb"<workbook\b[^>]*\bxmlns=\"" + MAIN_NS.encode() + rb"\"", workbook_xml):
            raise Unpatchable("workbook.xml is not in the transitional namespace without a prefix")
        _, workbook_rels = self._relationships(workbook_part)
        styles_part = next((p for t, p in workbook_rels.values() if t.endswith("/styles")), None)
        if styles_part is None:
            raise Unpatchable("no styles part")
        styles = _Styles(self.source.read(styles_part))
        sheets, parts, old_list = self._sheets(workbook_xml, workbook_rels)
        marks = cell_marks(sheets, self.findings)
        for index, (title, _state) in enumerate(sheets):
            part = parts[index]
            on_sheet = {(row, col): mark for (name, row, col), mark in marks.items() if name == title}
            xml = self.source.read(part)
            if on_sheet:
                self.out[part] = self._mark_sheet(part, xml, on_sheet, styles)
            elif _TAB_SELECTED.search(xml[: xml.find(b"<sheetData")]):
                self.out[part] = _unselect(xml)
        listed = corrections_list(sheets, self.findings)
        if old_list is not None:
            list_part = old_list
        else:
            list_part = self._free_name("xl/worksheets/sheet{}.xml")
            self._override(list_part, _SHEET_CT)
        self.out[list_part] = _corrections_xml(listed, styles)
        if old_list is not None and _rels_path(old_list) in self.names:
            self.dropped.add(_rels_path(old_list))  # the old list's own parts (none that mailbot writes)
        self.out[workbook_part] = self._workbook(workbook_xml, workbook_part, list_part, old_list is not None)
        self.out[styles_part] = styles.result()
        self.out["[Content_Types].xml"] = self.content_types
        return self._zip()

    def _sheets(
        self, workbook_xml: bytes, rels: dict[str, tuple[str, str]]
    ) -> tuple[list[SheetInfo], list[str], str | None]:
        """The sheets but a former `Correcciones` list, their parts, and that list's part (when it is first)."""
        root = ElementTree.fromstring(workbook_xml)
        sheets: list[SheetInfo] = []
        parts: list[str] = []
        old_list = None
        for position, sheet in enumerate(root.iter(f"{{{MAIN_NS}}}sheet")):
            rel_type, part = rels[sheet.get(f"{{{REL_NS}}}id", "")]
            if rel_type != _WORKSHEET_TYPE:
                raise Unpatchable(f"sheet {sheet.get('name')!r} is not a worksheet")
            if sheet.get("name") == SHEET_CORRECTIONS:
                if position != 0:
                    raise Unpatchable("a «Correcciones» sheet that is not the first one")
                old_list = part
                continue
            sheets.append((sheet.get("name", ""), sheet.get("state", "visible")))
            parts.append(part)
        return sheets, parts, old_list

    def _workbook(self, xml: bytes, part: str, list_part: str, replacing: bool) -> bytes:
        """workbook.xml with the list first and active, its print titles, and the other sheets' names kept."""
        if not replacing:
            rel_id = self._relate(part, _WORKSHEET_TYPE, list_part)
            ids = [int(n) for n in re.findall(rb'<sheet\b[^>]*?\ssheetId="([0-9]+)"', xml)]
            element = (
                f'<sheet xmlns:r="{REL_NS}" name="{SHEET_CORRECTIONS}" sheetId="{max(ids, default=0) + 1}" '
                f'r:id="{rel_id}"/>'
            ).encode()
            match = re.search(rb"<sheets\b[^>]*>", xml)
            if match is None:
                raise Unpatchable("workbook.xml has no <sheets>")
            xml = xml[: match.end()] + element + xml[match.end() :]
            xml = re.sub(rb'\slocalSheetId="([0-9]+)"', lambda m: b' localSheetId="%d"' % (int(m.group(1)) + 1), xml)
        else:
            xml = re.sub(rb'<definedName\b[^>]*\slocalSheetId="0"[^>]*>.*?</definedName>', b"", xml, flags=re.S)
        titles = f'<definedName name="_xlnm.Print_Titles" localSheetId="0">\'{SHEET_CORRECTIONS}\'!$4:$4</definedName>'
        if b"<definedNames/>" in xml:
            xml = xml.replace(b"<definedNames/>", b"<definedNames></definedNames>")
        if b"<definedNames>" in xml or re.search(rb"<definedNames\b", xml):
            xml = re.sub(rb"(<definedNames\b[^>]*>)", lambda m: m.group(1) + titles.encode(), xml, count=1)
        else:
            xml = xml.replace(b"</sheets>", b"</sheets><definedNames>" + titles.encode() + b"</definedNames>", 1)
        calc = re.search(rb"<calcPr\b[^>]*?/?>", xml)  # a restored total has no cached value: compute on opening
        if calc is not None:
            xml = xml[: calc.start()] + _set_attr(calc.group(0), b"fullCalcOnLoad", b"1") + xml[calc.end() :]
        else:
            xml = xml.replace(b"</definedNames>", b'</definedNames><calcPr fullCalcOnLoad="1"/>', 1)
        view = re.search(rb"<workbookView\b[^>]*?/?>", xml)
        if view is not None:
            tag = _set_attr(_drop_attr(view.group(0), b"firstSheet"), b"activeTab", b"0")
            xml = xml[: view.start()] + tag + xml[view.end() :]
        return xml

    # -- a marked sheet ----------------------------------------------------------------------------------------

    def _mark_sheet(self, part: str, xml: bytes, marks: dict[tuple[int, int], Mark], styles: _Styles) -> bytes:
        if not re.match(rb"(<\?xml[^>]*\?>\s*)?<worksheet\b", xml):
            raise Unpatchable(f"{part} uses a namespace prefix")
        if b"<sheetData/>" in xml:
            xml = xml.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)
        start = xml.find(b"<sheetData>")
        end = xml.find(b"</sheetData>")
        if start < 0 or end < start:
            raise Unpatchable(f"{part} has no plain <sheetData>")
        head, body, tail = xml[: start + len(b"<sheetData>")], xml[start + len(b"<sheetData>") : end], xml[end:]
        head = _widen_dimension(_unselect(head), marks)
        by_row: dict[int, dict[int, Mark]] = {}
        for (row, col), mark in marks.items():
            by_row.setdefault(row, {})[col] = mark
        body = _splice(body, by_row, styles, part)
        tail = self._comments(part, tail, marks)
        return head + body + tail

    def _comments(self, part: str, tail: bytes, marks: dict[tuple[int, int], Mark]) -> bytes:
        """The sheet's comments with ours added: a new comments part and VML drawing, or the existing ones rewritten.

        Existing comments keep their text and author (not their rich formatting, box size or position: openpyxl
        drops those too); a VML drawing with anything but comment boxes (form controls) is `Unpatchable`.
        """
        ours = {
            (row, col): _Note(COMMENT_AUTHOR, mark.comment, *comment_size(mark))
            for (row, col), mark in marks.items()
            if mark.comment is not None
        }
        if not ours:
            return tail
        drawing = re.search(rb'<legacyDrawing\b[^>]*\sr:id="([^"]*)"[^>]*/>', tail)
        if drawing is None and b"<legacyDrawing" in tail:
            raise Unpatchable(f"{part}: an unusual legacyDrawing")
        if drawing is None:
            comments_part = self._free_name("xl/comments/comment{}.xml")
            vml_part = self._free_name("xl/drawings/commentsDrawing{}.vml")
            notes = ours
        else:
            comments_part, vml_part, notes = self._existing_notes(part, drawing.group(1).decode())
            notes.update(ours)
        self.out[comments_part] = _comments_xml(notes)
        first_block = self._vml_block(vml_part)
        blocks = (len(notes) + 1023) // 1024 + 1
        self.vml_blocks = first_block + blocks
        self.out[vml_part] = _vml_xml(notes, first_block, blocks)
        if drawing is not None:
            return tail
        self._override(comments_part, _COMMENTS_CT)
        if not re.search(rb'<Default\b[^>]*Extension="vml"', self.content_types):
            vml_default = f'<Default Extension="vml" ContentType="{_VML_CT}"/>'.encode()
            self.content_types = re.sub(rb"(<Types\b[^>]*>)", lambda m: m.group(1) + vml_default, self.content_types)
        self._relate(part, _COMMENTS_TYPE, comments_part)
        vml_id = self._relate(part, _VML_TYPE, vml_part)
        element = f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{vml_id}"/>'.encode()
        at = min(i for i in (tail.find(name) for name in _AFTER_LEGACY) if i >= 0)
        return tail[:at] + element + tail[at:]

    def _existing_notes(self, part: str, vml_id: str) -> tuple[str, str, dict[tuple[int, int], _Note]]:
        """The comments part, VML part and comments of a sheet that has them already (a copy annotated before)."""
        _, rels = self._relationships(part)
        vml_type, vml_part = rels[vml_id]
        comment_parts = [target for kind, target in rels.values() if kind == _COMMENTS_TYPE]
        if vml_type != _VML_TYPE or len(comment_parts) != 1 or any("threaded" in k.lower() for k, _t in rels.values()):
            raise Unpatchable(f"{part}: a drawing or comments the patch does not merge")
        vml = self.source.read(vml_part)
        if len(re.findall(rb"ObjectType=", vml)) != len(re.findall(rb'ObjectType="Note"', vml)):
            raise Unpatchable(f"{part}: its VML drawing has more than comment boxes")
        root = ElementTree.fromstring(self.source.read(comment_parts[0]))
        authors = [author.text or "" for author in root.iter(f"{{{MAIN_NS}}}author")]
        notes: dict[tuple[int, int], _Note] = {}
        for comment in root.iter(f"{{{MAIN_NS}}}comment"):
            text = "".join(t.text or "" for t in comment.iter(f"{{{MAIN_NS}}}t"))
            author = int(comment.get("authorId", "0"))
            ref = comment.get("ref", "")
            notes[coordinate_to_tuple(ref)] = _Note(authors[author] if author < len(authors) else "", text, 144, 79)
        return comment_parts[0], vml_part, notes

    def _vml_block(self, replacing: str) -> int:
        """The first free block of VML shape ids: each drawing in the workbook has its own."""
        if self.vml_blocks == 0:
            used = [0]
            for name in self.names:
                if name.lower().endswith(".vml") and name != replacing:
                    found = re.search(rb'<o:idmap\b[^>]*\sdata="([0-9, ]+)"', self.source.read(name))
                    used += [int(n) for n in found.group(1).replace(b" ", b"").split(b",") if n] if found else []
            self.vml_blocks = max(used) + 1
        return self.vml_blocks

    def _zip(self) -> bytes:
        """The new package: unchanged members copied still compressed, the patched and added ones deflated."""
        entries: list[tuple[zipfile.ZipInfo, bytes | None]] = []
        written = set()
        for info in self.source.infolist():
            if info.filename not in self.dropped:
                entries.append((info, self.out.get(info.filename)))
                written.add(info.filename)
        for name, data in self.out.items():
            if name not in written:
                entries.append((zipfile.ZipInfo(name, time.localtime()[:6]), data))
        return _write_zip(self.source, entries)


_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_UTF8 = 0x800


def _write_zip(source: zipfile.ZipFile, entries: list[tuple[zipfile.ZipInfo, bytes | None]]) -> bytes:
    """A zip of `entries`: (member, None) is copied from `source` as stored, (member, data) is deflated anew.

    Copying the compressed bytes saves inflating and deflating every part that does not change (half the time of
    the copy with `zipfile`'s writer). Plain zip only: the reader's caps keep every workbook far from ZIP64.
    """
    out = io.BytesIO()
    central = []
    for info, data in entries:
        if data is None:
            if info.flag_bits & 0x1 or source.fp is None:
                raise Unpatchable(f"{info.filename}: an encrypted member")
            source.fp.seek(info.header_offset)
            header = source.fp.read(_LOCAL.size)
            name_length, extra_length = struct.unpack("<2H", header[26:30])
            source.fp.seek(info.header_offset + _LOCAL.size + name_length + extra_length)
            raw, method, crc, size = source.fp.read(info.compress_size), info.compress_type, info.CRC, info.file_size
        else:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw, method, crc, size = (
                packer.compress(data) + packer.flush(),
                zipfile.ZIP_DEFLATED,
                zlib.crc32(data),
                len(data),
            )
        name = info.filename.encode()
        flags = _UTF8 if not info.filename.isascii() else 0
        date_time = info.date_time
        dos_time = date_time[3] << 11 | date_time[4] << 5 | date_time[5] // 2
        dos_date = max(date_time[0] - 1980, 0) << 9 | date_time[1] << 5 | date_time[2]
        offset = out.tell()
        if offset > 0x7FFFFFFF or size > 0x7FFFFFFF:
            raise Unpatchable("a package too large for a plain zip")
        fields = (20, 0, flags, method, dos_time, dos_date, crc, len(raw), size, len(name))
        out.write(_LOCAL.pack(b"PK\x03\x04", *fields, 0) + name + raw)
        central.append(_CENTRAL.pack(b"PK\x01\x02", 20, 3, *fields, 0, 0, 0, 0, info.external_attr, offset) + name)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory + _END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), start, 0))
    return out.getvalue()


def _rgb(fill: PatternFill) -> str:
    return str(fill.fgColor.rgb)


def _widen_dimension(head: bytes, marks: dict[tuple[int, int], Mark]) -> bytes:
    """The sheet's declared extent, grown to the marked cells (readers in read-only mode trust it)."""
    found = re.search(rb'<dimension ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"\s*/>', head)
    if found is None:
        return head
    first_col, first_row = _column(found.group(1)), int(found.group(2))
    last_col, last_row = (_column(found.group(3)), int(found.group(4))) if found.group(3) else (first_col, first_row)
    rows, cols = [row for row, _col in marks], [col for _row, col in marks]
    first_col, first_row = min(first_col, *cols), min(first_row, *rows)
    last_col, last_row = max(last_col, *cols), max(last_row, *rows)
    ref = f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
    return head[: found.start()] + f'<dimension ref="{ref}"/>'.encode() + head[found.end() :]


def _unselect(xml: bytes) -> bytes:
    """Only the list is the selected tab: two selected tabs would group the sheets in Excel."""
    return _TAB_SELECTED.sub(b"", xml)


def _splice(body: bytes, by_row: dict[int, dict[int, Mark]], styles: _Styles, part: str) -> bytes:
    """`sheetData`'s rows with the marked ones patched and the missing ones inserted in order; the rest as is."""
    pending = sorted(by_row)
    pieces: list[bytes] = []
    last = 0
    for match in _ROW_START.finditer(body):
        if not pending:
            break
        number = _ROW_NUMBER.search(match.group(1))
        if number is None:
            raise Unpatchable(f"{part}: a row without its number")
        row = int(number.group(1))
        if pending[0] > row:
            continue
        end, content = match.end(), b""
        if not match.group(2):
            close = body.find(b"</row>", end)
            if close < 0:
                raise Unpatchable(f"{part}: a row that does not end")
            end, content = close + len(b"</row>"), body[end:close]
        pieces.append(body[last : match.start()])
        while pending and pending[0] < row:
            new = pending.pop(0)
            pieces.append(_row_xml(f' r="{new}"'.encode(), b"", by_row[new], styles))
        if pending and pending[0] == row:
            pending.pop(0)
            pieces.append(_row_xml(match.group(1), content, by_row[row], styles))
        else:
            pieces.append(body[match.start() : end])
        last = end
    pieces.append(body[last:])
    for new in pending:
        pieces.append(_row_xml(f' r="{new}"'.encode(), b"", by_row[new], styles))
    return b"".join(pieces)


def _row_xml(attrs: bytes, content: bytes, marks: dict[int, Mark], styles: _Styles) -> bytes:
    """A marked row: its marked cells patched in place when each is found by its reference, else all parsed."""
    row = _row_of(attrs)
    spots: list[tuple[int, int, bytes]] = []
    for col, mark in marks.items():
        at = content.find(f'<c r="{get_column_letter(col)}{row}"'.encode())
        match = _C.match(content, at) if at >= 0 else None
        if match is None:
            return _row_parsed(attrs, content, marks, styles)
        spots.append((at, match.end(), _cell_xml(match.group(1), match.group(2), mark, styles)))
    spots.sort()
    pieces, last = [], 0
    for start, end, xml in spots:
        pieces += [content[last:start], xml]
        last = end
    pieces.append(content[last:])
    return b"<row" + _drop_attr(attrs, b"spans") + b">" + b"".join(pieces) + b"</row>"


def _row_parsed(attrs: bytes, content: bytes, marks: dict[int, Mark], styles: _Styles) -> bytes:
    """A marked row with cells to insert (or references written unusually): every cell parsed, put in order."""
    cells: list[tuple[int, bytes]] = []
    seen: set[int] = set()
    for match in _C.finditer(content):
        ref = _REF.search(match.group(1))
        if ref is None:
            raise Unpatchable("a cell without its reference")
        col = _column(ref.group(1))
        seen.add(col)
        mark = marks.get(col)
        cells.append((col, match.group(0) if mark is None else _cell_xml(match.group(1), match.group(2), mark, styles)))
    if _C.sub(b"", content).strip():
        raise Unpatchable("a row with more than cells")
    for col, mark in marks.items():
        if col not in seen:
            new = f' r="{get_column_letter(col)}{_row_of(attrs)}"'.encode()
            cells.append((col, _cell_xml(new, None, mark, styles)))
    cells.sort(key=lambda item: item[0])
    attrs = _drop_attr(attrs, b"spans")  # a hint of the row's extent, which new cells may widen
    return b"<row" + attrs + b">" + b"".join(xml for _col, xml in cells) + b"</row>"


def _row_of(attrs: bytes) -> int:
    number = _ROW_NUMBER.search(attrs)
    if number is None:
        raise Unpatchable("a row without its number")
    return int(number.group(1))


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _cell_xml(attrs: bytes, content: bytes | None, mark: Mark, styles: _Styles) -> bytes:
    tag = b"<c" + attrs + b">"
    if mark.error is not None:
        style = re.search(rb'\ss="([0-9]+)"', attrs)
        tag = _set_attr(tag, b"s", str(styles.marked_xf(int(style.group(1)) if style else 0, mark.error)).encode())
    if mark.formula is not None:
        tag = _drop_attr(tag, b"t")
        content = b"<f>" + _text(mark.formula.removeprefix("=")) + b"</f>"
    if not content:
        return tag[:-1] + b"/>"
    return tag + content + b"</c>"


@dataclass(frozen=True)
class _Note:
    author: str
    text: str
    width: int
    height: int


def _comments_xml(notes: dict[tuple[int, int], _Note]) -> bytes:
    authors = list(dict.fromkeys(note.author for note in notes.values()))
    index = {author: number for number, author in enumerate(authors)}
    items = "".join(
        f'<comment ref="{get_column_letter(col)}{row}" authorId="{index[note.author]}"><text>'
        f'<t xml:space="preserve">{escape(note.text)}</t></text></comment>'
        for (row, col), note in sorted(notes.items())
    )
    names = "".join(f"<author>{escape(author)}</author>" for author in authors)
    return (
        f'<comments xmlns="{MAIN_NS}"><authors>{names}</authors><commentList>{items}</commentList></comments>'.encode()
    )


def _vml_xml(notes: dict[tuple[int, int], _Note], first_block: int, blocks: int) -> bytes:
    """The VML drawing Excel and LibreOffice draw comment boxes from (hidden until the cell is pointed at)."""
    shapes = []
    for number, ((row, col), note) in enumerate(sorted(notes.items()), start=first_block * 1024 + 1):
        shapes.append(
            f'<v:shape id="_x0000_s{number}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:{note.width}px;height:{note.height}px;z-index:1;visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData>"
            "</v:shape>"
        )
    data = ",".join(str(block) for block in range(first_block, first_block + blocks))
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{data}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        + "".join(shapes)
        + "</xml>"
    ).encode()


def _corrections_xml(listed: list[Listed], styles: _Styles) -> bytes:
    """The `Correcciones` sheet, laid out as `annotate._corrections_sheet` lays it out with openpyxl."""
    top, wrap_top = 'vertical="top"', 'vertical="top" wrapText="1"'
    title = styles.xf(font=styles.font(bold=True, size=TITLE_FONT.sz))
    summary = styles.xf(alignment='wrapText="1"')
    header = styles.xf(font=styles.font(bold=True, rgb=HEADER_FONT.color.rgb), fill=styles.fill(_rgb(HEADER_FILL)))
    plain = styles.xf(alignment=top)
    severity = {
        Severity.ERROR: styles.xf(fill=styles.fill(_rgb(ERROR_FILL)), alignment=top),
        Severity.WARNING: styles.xf(fill=styles.fill(_rgb(WARNING_FILL)), alignment=top),
    }
    link = styles.xf(font=styles.font(underline=True, rgb=LINK_FONT.color.rgb), alignment=top)
    wrapped = {False: styles.xf(alignment=wrap_top), True: styles.xf(alignment=wrap_top, quote=True)}

    def text(ref: str, style: int, value: str) -> str:
        if not value:
            return f'<c r="{ref}" s="{style}"/>'
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'

    rows = [
        f'<row r="1">{text("A1", title, CORRECTIONS_TITLE)}</row>',
        f'<row r="2" ht="{SUMMARY_HEIGHT}" customHeight="1">{text("A2", summary, corrections_summary(listed))}</row>',
        '<row r="4">'
        + "".join(text(f"{get_column_letter(c)}4", header, h) for c, h in enumerate(HEADERS, 1))
        + "</row>",
    ]
    links = []
    for item in listed:
        row, finding = 4 + item.number, item.finding
        height = f' ht="{15 * min(item.lines, MAX_LINES)}" customHeight="1"' if item.lines > 1 else ""
        cells = [
            f'<c r="A{row}" s="{plain}"><v>{item.number}</v></c>',
            text(f"B{row}", plain, finding.code),
            text(f"C{row}", severity[finding.severity], SEVERITY_NAME[finding.severity]),
            text(f"D{row}", plain, item.sheet_label),
            text(f"E{row}", link if item.link is not None else plain, finding.cell or ""),
        ]
        for col, value in (("F", finding.where), ("G", finding.value or ""), ("H", finding.message)):
            cells.append(text(f"{col}{row}", wrapped[value.startswith(("=", "+", "-", "@"))], value))
        rows.append(f'<row r="{row}"{height}>' + "".join(cells) + "</row>")
        if item.link is not None:
            links.append(f'<hyperlink ref="E{row}" location={quoteattr(item.link)}/>')
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in enumerate(WIDTHS, 1))
    last_row = 4 + len(listed)
    return (
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:H{last_row}"/><sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="4" topLeftCell="A5" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A5" sqref="A5"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{"".join(rows)}</sheetData>'
        '<mergeCells count="1"><mergeCell ref="A2:H2"/></mergeCells>'
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>'
    ).encode()
