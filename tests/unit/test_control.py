from __future__ import annotations

from mailbot.domain import control
from mailbot.domain.workbook_format import ControlField

SECRET = "a-secret-of-enough-length"


def test_signed_block_verifies_and_parses_back() -> None:
    block = control.ControlBlock(ronda="formulacion", vigencia=2027, dependencia="HAC", token="abc123")
    values = block.signed(SECRET)
    assert control.verify(values, SECRET)
    assert control.parse(values) == block


def test_any_edit_or_other_secret_breaks_the_signature() -> None:
    values = control.ControlBlock(ronda="formulacion", vigencia=2027, dependencia="HAC", token="abc123").signed(SECRET)
    assert not control.verify(values, SECRET + "x")
    for field in (ControlField.CODIGO_DEPENDENCIA, ControlField.VIGENCIA, ControlField.TOKEN, ControlField.RONDA):
        edited = {**values, field: values[field] + "1"}
        assert not control.verify(edited, SECRET), field
    assert not control.verify({**values, ControlField.FIRMA: ""}, SECRET)


def test_values_read_back_as_numbers_or_with_spaces_still_verify() -> None:
    values = control.ControlBlock(ronda="formulacion", vigencia=2027, dependencia="EDU", token="t0k").signed(SECRET)
    as_read = {**values, ControlField.VIGENCIA: " 2027 ", ControlField.VERSION_FORMATO: "1"}
    assert control.verify(as_read, SECRET)


def test_parse_rejects_incomplete_blocks() -> None:
    assert control.parse({"formato": "E-DE-F-010"}) is None
