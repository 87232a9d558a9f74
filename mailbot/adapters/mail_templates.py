"""Jinja2 rendering of the mail templates: the ops override folder first, then the shipped templates.

`check` renders them the way the daemon will, so an override with a mistake is reported by `mailbot config check`
with its file and line instead of failing on a secretario's reply.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)

import mailbot
from mailbot.domain import espanol

SUFFIXES = (".txt.j2", ".html.j2")


def template_folders(override: Path | None = None) -> list[Path]:
    """Where templates are looked for, first first: ops' override folder, then the shipped templates (inside an
    installed wheel, mailbot/templates; from a checkout, the repository's). The workbook's text is found here too."""
    package = Path(mailbot.__file__).resolve().parent
    shipped = [folder for folder in (package / "templates", package.parent / "templates") if folder.is_dir()]
    return ([override] if override else []) + shipped


@cache
def environment(override: Path | None = None) -> Environment:
    folders = template_folders(override)
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,  # a misspelt variable fails the render instead of sending a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Agreement in the templates themselves: {{ cantidad(n, "día hábil", "días hábiles") }}.
    env.globals.update(cantidad=espanol.cantidad, numero=espanol.numero)
    return env


def render(name: str, context: dict[str, Any], override: Path | None = None) -> tuple[str, str]:
    """(text, html) of the template pair `name.txt.j2` / `name.html.j2`."""
    env = environment(override)
    return env.get_template(f"{name}.txt.j2").render(context), env.get_template(f"{name}.html.j2").render(context)


def template_names(override: Path | None = None) -> list[str]:
    """Every template file mailbot may load: the shipped ones and the override folder's (file names)."""
    folders = template_folders(override if override and override.is_dir() else None)
    return sorted({p.name for folder in folders for p in folder.iterdir() if p.name.endswith(SUFFIXES)})


def mail_name(filename: str) -> str:
    """`aceptacion.html.j2` → `aceptacion`."""
    for suffix in SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def check(
    override: Path | None, contexts: Callable[[str], Iterable[dict[str, Any]]], names: Iterable[str] | None = None
) -> list[str]:
    """Render every template file with each sample context of its mail; one problem per failing file, naming the
    file and line where Jinja found it. Partials (`_*.j2`) are parsed; they render through the mails using them."""
    env = environment(override)
    problems: dict[str, None] = {}  # a mistake in a shared frame shows once, not once per mail using it
    for filename in names if names is not None else template_names(override):
        try:
            template = env.get_template(filename)
            if not filename.startswith("_"):
                for context in contexts(mail_name(filename)):
                    template.render(context)
        except TemplateError as exc:
            problems[describe(exc, filename)] = None
    return list(problems)


def describe(exc: TemplateError, default_file: str) -> str:
    """`aceptacion.txt.j2:12: 'radicdo' is undefined` from Jinja's own error: the syntax error's file and line, or
    the template frame of the traceback (Jinja rewrites it so its frames point into the template files)."""
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        where = f"{exc.filename or exc.name or default_file}:{exc.lineno}"
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(SUFFIXES)]
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else default_file
    return f"{where}: {exc.message or exc.__class__.__name__}"
