"""Test configurations derived from the shipped example, so the example stays a tested fixture."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mailbot.example.yaml"
TEST_SECRET = "test-secret-0123456789abcdef"


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` into a copy of `base`; a value of None in changes deletes the key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(folder: Path, changes: dict[str, Any] | None = None) -> Path:
    """The example with storage inside `folder`, a test secret, and `changes` merged in."""
    data = merge(
        example_data(),
        {
            "storage": {
                "database_url": f"sqlite:///{folder / 'state' / 'mailbot.db'}",
                "archive_dir": str(folder / "state" / "archivo"),
            },
            "signing": {"secret": TEST_SECRET},
        },
    )
    data = merge(data, changes or {})
    path = folder / "mailbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
