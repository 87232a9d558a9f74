"""The PDM catalogue and the BPIN list named by the configuration, read once per file version."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from mailbot.adapters.catalogue import load_bpins, load_catalogue
from mailbot.config import MailbotConfig
from mailbot.domain.context import Catalogue


@lru_cache(maxsize=8)
def _catalogue(path: Path, mtime: float) -> Catalogue:
    return load_catalogue(path)


@lru_cache(maxsize=8)
def _bpins(path: Path, mtime: float) -> frozenset[str]:
    return load_bpins(path)


def configured_catalogue(config: MailbotConfig) -> Catalogue | None:
    path = config.development_plan.catalogue
    return _catalogue(path, path.stat().st_mtime) if path else None


def configured_bpins(config: MailbotConfig) -> frozenset[str] | None:
    path = config.development_plan.projects
    return _bpins(path, path.stat().st_mtime) if path else None
