"""Jinja2 rendering of the mail templates: the ops override folder first, then the shipped templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

import mailbot


def template_folders(override: Path | None = None) -> list[Path]:
    """Where templates are looked for, first first: ops' override folder, then the shipped templates (inside an
    installed wheel, mailbot/templates; from a checkout, the repository's). The workbook's text is found here too."""
    package = Path(mailbot.__file__).resolve().parent
    shipped = [folder for folder in (package / "templates", package.parent / "templates") if folder.is_dir()]
    return ([override] if override else []) + shipped


@cache
def environment(override: Path | None = None) -> Environment:
    folders = template_folders(override)
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,  # a misspelt variable fails the render instead of sending a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, context: dict[str, Any], override: Path | None = None) -> tuple[str, str]:
    """(text, html) of the template pair `name.txt.j2` / `name.html.j2`."""
    env = environment(override)
    return env.get_template(f"{name}.txt.j2").render(context), env.get_template(f"{name}.html.j2").render(context)
