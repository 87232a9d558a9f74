"""The sample municipality the demo and the tests plan with: believable, and clean under every rule.

Each secretaría's metas are of its own field with PDM codes that never repeat; the plan of every dependencia of
the example passes every rule (warnings included) against the sample's own PDM catalogue and banco de proyectos,
so rules M06 and P05 are on; and the first quarter reported as `sample_reports` does it has no findings either,
a lagging meta included (lagging is a score, not a finding).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mailbot.config import MailbotConfig, load_config
from mailbot.domain import values
from mailbot.domain.rules import validate
from mailbot.domain.workbook_format import INCREMENTO, MANTENIMIENTO, UNITS, physical_key
from mailbot.services.sample_metas import SAMPLE
from mailbot.services.sample_plans import sample_bpins, sample_catalogue_csv, sample_reports
from mailbot.services.validation import build_context, validate_bytes
from tests.support.configs import write_config
from tests.support.plans import make_plan
from tests.support.seguimiento import fill_quarter, make_seguimiento, read


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> MailbotConfig:
    """The example municipality with the sample's catalogue and BPIN list."""
    folder = tmp_path_factory.mktemp("sample")
    catalogue, projects = folder / "pdm.csv", folder / "bpin.txt"
    catalogue.write_text(sample_catalogue_csv(list(SAMPLE)), encoding="utf-8")
    projects.write_text("\n".join(sample_bpins(list(SAMPLE))) + "\n", encoding="utf-8")
    changes = {"development_plan": {"catalogue": str(catalogue), "projects": str(projects)}}
    return load_config(write_config(folder, changes), environ={})


def test_codes_never_repeat_across_dependencias_and_programming_fits_the_tipo() -> None:
    codes = [m.code for sample in SAMPLE.values() for m in sample.metas]
    assert len(codes) == len(set(codes))
    for sample in SAMPLE.values():
        for m in sample.metas:
            assert m.code.startswith(m.program.code), m.code
            assert m.unit in UNITS, m.unit
            if m.kind == MANTENIMIENTO:
                assert max(m.quarters) <= m.vigencia == m.quarters[-1], m.code
            else:
                assert sum(Decimal(str(q)) for q in m.quarters) == Decimal(str(m.vigencia)), m.code
            if m.kind == INCREMENTO:
                assert m.vigencia <= m.cuatrienio, m.code
            assert m.responsable < len(sample.people), m.code


@pytest.mark.parametrize("code", sorted(SAMPLE))
def test_every_dependencia_plans_cleanly_against_the_sample_catalogue(config: MailbotConfig, code: str) -> None:
    data = make_plan(config, code, len(SAMPLE[code].metas))
    result = validate_bytes(config, data, dependencia=code, vigencia=2027)
    assert result.findings == [], [(f.code, f.cell, f.message) for f in result.findings]


def test_the_first_quarter_as_reported_has_no_findings(config: MailbotConfig) -> None:
    case = make_seguimiento(config, "EDU", 1, n=len(SAMPLE["EDU"].metas))
    parsed = read(case.data)
    first = case.baseline.metas[0].meta_code
    context = build_context(config, "EDU", vigencia=2027, ronda=case.spec.ronda, baseline=case.baseline)
    for pace in (None, {first: Decimal("0.4")}):
        reports = sample_reports(parsed, 1, pace)
        filled = read(fill_quarter(case.data, 1, reports))
        assert validate(filled, context) == [], pace
    lagging = sample_reports(parsed, 1, {first: Decimal("0.4")})[first]
    row = next(r for r in parsed.seguimiento if values.text(r.cell("meta_code").value) == first)
    assert lagging.execution == Decimal("0.4") * values.number(row.cell(physical_key(1)).value).value
