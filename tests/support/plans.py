"""Filled E-DE-F-010 plans for tests, always built on the generated template (never a hand-made file).

`make_plan(config)` is the one-liner: the template of a dependencia, filled with metas that pass every rule of
the contract (warnings included). Tests break exactly one thing with `mutate` or `header` and look for exactly
one finding. The metas themselves come from `mailbot.services.sample_plans`, which the demo uses too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from mailbot.adapters.catalogue import load_bpins, load_catalogue
from mailbot.adapters.workbook.writer import spec_from_config, template_bytes
from mailbot.config import MailbotConfig
from mailbot.domain.context import Catalogue, CatalogueEntry
from mailbot.domain.workbook_format import Ronda
from mailbot.services.sample_plans import INPUT_KEYS, Meta, fill_plan, valid_metas

__all__ = ["INPUT_KEYS", "Meta", "fill_plan", "make_plan", "valid_metas"]


def make_plan(
    config: MailbotConfig,
    dependencia: str = "HAC",
    n: int = 5,
    *,
    vigencia: int = 2027,
    token: str = "tok-test-0001",  # noqa: S107 - a mailing token, not a secret
    mutate: Callable[[list[Meta]], None] | None = None,
    header: Mapping[str, object] | None = None,
) -> bytes:
    """A valid formulación plan of `dependencia`, as the secretario would send it back.

    Budget, catalogue (codes and texts of the dependencia's PDM metas) and BPIN list come from `config`; with a
    catalogue, ask for at most as many metas as it assigns to the dependencia (see `_use_catalogue`).
    """
    catalogue = _catalogue(config)
    spec = spec_from_config(
        config,
        dependencia,
        ronda=Ronda.FORMULACION,
        vigencia=vigencia,
        deadline=_deadline(config.rounds.formulacion.deadline, vigencia),
        token=token,
        catalogue=catalogue,
    )
    metas = valid_metas(n, spec.available, dependencia=spec.dependencia_code)
    if catalogue is not None:
        _use_catalogue(metas, spec.catalogue)
    if config.development_plan.projects is not None:
        _use_bpins(metas, sorted(load_bpins(config.development_plan.projects)))
    if mutate is not None:
        mutate(metas)
    return fill_plan(template_bytes(spec), metas, header)


def _catalogue(config: MailbotConfig) -> Catalogue | None:
    path = config.development_plan.catalogue
    return load_catalogue(path) if path is not None else None


def _use_catalogue(metas: list[Meta], entries: tuple[CatalogueEntry, ...]) -> None:
    """Metas whose code the catalogue has take its texts; the others take its unused entries, in order.

    Metas past the catalogue keep their generated code, which rule M06 flags: ask for at most as many metas as
    the dependencia has in the catalogue to get a clean plan.
    """
    by_code = {e.meta_code: e for e in entries}
    used = {str(m["meta_code"]) for m in metas}
    unused = [e for e in entries if e.meta_code not in used]
    for meta in metas:
        entry = by_code.get(str(meta["meta_code"])) or (unused.pop(0) if unused else None)
        if entry is None:
            continue
        meta.update(
            linea=entry.linea,
            program_code=entry.program_code,
            program=entry.program,
            meta_code=entry.meta_code,
            meta=entry.meta,
        )
        if entry.indicator:
            meta["indicator"] = entry.indicator
        if entry.unit:
            meta["unit"] = entry.unit


def _use_bpins(metas: list[Meta], bpins: list[str]) -> None:
    for i, meta in enumerate(m for m in metas if m["bpin"]):
        meta["bpin"] = bpins[i % len(bpins)]


def _deadline(spec: str, vigencia: int) -> dt.date:
    """`MM-DD` in the vigencia, or a full `YYYY-MM-DD` (config.FormulacionRound.deadline)."""
    parts = [int(p) for p in spec.split("-")]
    year, month, day = parts if len(parts) == 3 else (vigencia, *parts)
    return dt.date(year, month, day)
