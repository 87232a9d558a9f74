"""R01–R03: every meta has a direct responsable who can be reached, distinct from the indirect ones."""

from __future__ import annotations

from collections.abc import Iterator

from mailbot.domain.addresses import is_valid_address
from mailbot.domain.findings import Finding, error, warning
from mailbot.domain.rules.engine import FORMULACION_ONLY, rule
from mailbot.domain.rules.view import PlanView
from mailbot.domain.workbook_format import SHEET_METAS, fold


@rule("R01", rondas=FORMULACION_ONLY)
def direct_responsable(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        for key in ("resp_name", "resp_title"):
            if not view.text(row, key):
                yield error(
                    "R01",
                    SHEET_METAS,
                    view.ref(row, key),
                    None,
                    f"Escriba «{view.label(key)}»: la persona que responde directamente por la meta.",
                )


@rule("R02", rondas=FORMULACION_ONLY)
def direct_responsable_email(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        address = view.text(row, "resp_email")
        if not is_valid_address(address):
            yield error(
                "R02",
                SHEET_METAS,
                view.ref(row, "resp_email"),
                address,
                "Escriba un correo electrónico válido del responsable directo, por ejemplo nombre@dominio.gov.co.",
            )


@rule("R03", rondas=FORMULACION_ONLY)
def direct_not_indirect(view: PlanView) -> Iterator[Finding]:
    for row in view.metas:
        direct = fold(view.text(row, "resp_name"))
        indirect = {fold(name) for name in view.text(row, "resp_indirect").split(";")}
        if direct and direct in indirect:
            yield warning(
                "R03",
                SHEET_METAS,
                view.ref(row, "resp_indirect"),
                view.text(row, "resp_indirect"),
                "La misma persona figura como responsable directo e indirecto; deje en «Responsables indirectos» "
                "solo a quienes apoyan la meta.",
            )
