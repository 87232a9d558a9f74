"""The example configuration documents every key of the schema (issue 17): a key added to `mailbot.config` without
a line in config/mailbot.example.yaml fails here, naming the key."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from mailbot.config import MailbotConfig
from tests.support.configs import EXAMPLE

#: Schema keys the example leaves out on purpose, and why.
NOT_DOCUMENTED = {
    "rounds.seguimiento.deadline": "inherited from formulación; a seguimiento's deadline is deadline_working_days",
}


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model under Optional[...], Annotated[...] and list[...], or None for a plain value (or a dict)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        elif origin is list:
            annotation = get_args(annotation)[0]
        else:
            break
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _schema_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys.add(dotted)
        inner = _model(info.annotation)
        if inner is not None:
            keys |= _schema_keys(inner, f"{dotted}.")
    return keys


def _document_keys(value: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(value, list):
        for item in value:
            keys |= _document_keys(item, prefix)
    elif isinstance(value, dict):
        for name, inner in value.items():
            keys.add(f"{prefix}{name}")
            if not (prefix.endswith("cutoffs.") or name == "cutoffs"):
                keys |= _document_keys(inner, f"{prefix}{name}.")
    return keys


def _commented_sections(text: str) -> dict[str, Any]:
    """Optional sections the example shows commented out (`# evaluation:` and the `#   ...` lines below it)."""
    found: dict[str, Any] = {}
    for match in re.finditer(r"^# (\w+):[^\n]*\n((?:#   [^\n]*\n)+)", text, re.MULTILINE):
        if match.group(1) in MailbotConfig.model_fields:
            block = match.group(0).splitlines()
            found |= yaml.safe_load("\n".join(line[2:] for line in block)) or {}
    return found


def test_the_example_documents_every_key_of_the_schema() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = _document_keys(yaml.safe_load(text)) | _document_keys(_commented_sections(text))
    expected = {key for key in _schema_keys(MailbotConfig) if not key.startswith("rounds.seguimiento.cutoffs.")}

    missing = sorted(expected - documented - set(NOT_DOCUMENTED))

    assert missing == [], f"config/mailbot.example.yaml does not document: {', '.join(missing)}"
    assert documented - expected == set()  # and nothing the schema does not know (the loader rejects those too)
