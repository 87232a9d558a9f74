"""The `Instrucciones` sheet's Spanish text, read from templates/workbook/instrucciones.yaml.

The text lives beside the mail templates so that ops can reword it without a release; like them, a copy in
`smtp.templates_dir` (as workbook/instrucciones.yaml) takes the shipped file's place. Placeholders and rule codes
are checked when the file is read, so a misspelling fails before any workbook is mailed, naming file and key.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

from mailbot.adapters.mail_templates import template_folders

FILE: Final = Path("workbook") / "instrucciones.yaml"
#: What a text may say between braces; `render` fills every one of them.
PLACEHOLDERS: Final = frozenset(
    {"vigencia", "dependencia", "ronda", "fecha_limite", "primera_fila", "listas", "bloques", "max_caracteres"}
)


@dataclass(frozen=True)
class RoundText:
    """One kind of round's part: its steps, what a finding does, what the grey cells are, which rules it shows."""

    steps: tuple[str, ...]
    effects: str
    grey: str
    rules: tuple[str, ...]  # rule codes, in the order shown
    prefilled_step: str | None = None  # formulación: inserted fourth when the PDM's metas come pre-filled


@dataclass(frozen=True)
class InstructionText:
    titles: Mapping[str, str]  # plan, ronda, fecha_limite, pasos, colores, reglas
    coloured: str  # the legend of the coloured (input) cells
    formulacion: RoundText
    seguimiento: RoundText
    rules: Mapping[str, tuple[str, str]]  # code → (efecto, texto)

    def rule(self, code: str) -> tuple[str, str, str]:
        effect, text = self.rules[code]
        return code, effect, text


def render(text: str, values: Mapping[str, object]) -> str:
    return text.format_map(values)


@cache
def instruction_text(override: Path | None = None) -> InstructionText:
    """The text in ops' folder when it holds the file, else the shipped one (read once per folder)."""
    path = next(folder / FILE for folder in template_folders(override) if (folder / FILE).is_file())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    return _parse(data, path)


def _parse(data: Any, path: Path) -> InstructionText:
    """The file's texts, each checked: present, a text, no placeholder but `PLACEHOLDERS`."""

    def at(*keys: str | int) -> Any:
        node = data
        for key in keys:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                raise ValueError(f"{path}: {_where(keys)}: missing") from None
        return node

    def text(*keys: str | int) -> str:
        node = at(*keys)
        if not isinstance(node, str):
            raise ValueError(f"{path}: {_where(keys)}: expected a text")
        unknown = {name for _, name, _, _ in string.Formatter().parse(node) if name is not None} - PLACEHOLDERS
        if unknown:
            raise ValueError(f"{path}: {_where(keys)}: unknown placeholder {{{min(unknown)}}}")
        return node

    def round_text(kind: str) -> RoundText:
        codes = tuple(str(code) for code in at(kind, "reglas"))
        for code in codes:
            if code not in rules:
                raise ValueError(f"{path}: {kind}.reglas: {code} is not described under reglas")
        prefilled = text(kind, "paso_metas_precargadas") if "paso_metas_precargadas" in at(kind) else None
        steps = tuple(text(kind, "pasos", i) for i in range(len(at(kind, "pasos"))))
        return RoundText(steps, text(kind, "efectos"), text(kind, "celdas_grises"), codes, prefilled)

    rules = {str(code): (text("reglas", code, "efecto"), text("reglas", code, "texto")) for code in at("reglas")}
    titles = {key: text("titulos", key) for key in ("plan", "ronda", "fecha_limite", "pasos", "colores", "reglas")}
    return InstructionText(titles, text("celdas_de_color"), round_text("formulacion"), round_text("seguimiento"), rules)


def _where(keys: tuple[str | int, ...]) -> str:
    return ".".join(str(key) for key in keys)
