"""Editing a filled workbook the way a person (or a forger) would, for rule tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from mailbot.domain import control
from mailbot.domain.findings import Finding, Severity
from mailbot.domain.workbook_format import SHEET_CONTROL, ControlField


def edit_workbook(data: bytes, change: Callable[[Workbook], None]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def control_values(workbook: Workbook) -> dict[str, str]:
    sheet = workbook[SHEET_CONTROL]
    return {str(a.value): str(b.value) for a, b in sheet.iter_rows(min_col=1, max_col=2) if a.value}


def set_control(workbook: Workbook, changes: dict[str, str], *, resign_with: str | None = None) -> None:
    """Change `_control` values; with `resign_with`, sign again as someone holding the secret would."""
    sheet = workbook[SHEET_CONTROL]
    values = {**control_values(workbook), **changes}
    if resign_with is not None:
        values[ControlField.FIRMA] = control.sign(values, resign_with)
    for a, b in sheet.iter_rows(min_col=1, max_col=2):
        if a.value in values:
            b.value = values[str(a.value)]


def odd_workbook() -> bytes:
    """A workbook as other programs write it: inline and shared strings, spans, x14ac styles, a print area."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{ct}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId4" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
        '<bookViews><workbookView activeTab="1" firstSheet="1"/></bookViews><sheets>'
        '<sheet name="Encabezado" sheetId="1" r:id="rId1"/><sheet name="Metas" sheetId="2" r:id="rId2"/></sheets>'
        '<definedNames><definedName name="_xlnm.Print_Area" localSheetId="1">Metas!$A$1:$C$3</definedName>'
        "</definedNames></workbook>",
        "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="1" uniqueCount="1"><si><t>compartido</t></si></sst>',
        "xl/styles.xml": f'<styleSheet xmlns="{main}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" mc:Ignorable="x14ac">'
        '<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"><alignment wrapText="1"/></xf>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
        "<is><t>Encabezado</t></is></c></row></sheetData></worksheet>",
        "xl/worksheets/sheet2.xml": f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{main}">'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetData>'
        '<row r="1" spans="1:2"><c r="A1" s="1" t="inlineStr"><is><t>en línea</t></is></c>'
        '<c r="B1" t="s"><v>0</v></c></row>'
        '<row r="3" spans="1:3"><c r="A3"><v>2</v></c><c r="C3"><f>A3*2</f><v>4</v></c></row>'
        '</sheetData><dataValidations count="1"><dataValidation type="whole" sqref="A3"><formula1>0</formula1>'
        "</dataValidation></dataValidations></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


ODD_FINDINGS = [
    Finding("X01", Severity.ERROR, "Metas", "A1", "en línea", "Corrija el texto."),
    Finding("X02", Severity.WARNING, "Metas", "B3", None, "Una celda que no existía."),
    Finding("X03", Severity.WARNING, "Metas", "B2", None, "Una fila que no existía."),
    Finding("X04", Severity.ERROR, "Metas", "C3", "4", "Una fórmula."),
]
