"""The loader: YAML to a validated `MailbotConfig`.

It keeps the line of every key so that an error reads `mailbot.yaml:42: imap.port: ...`, substitutes `${ENV_VAR}`
(or `${ENV_VAR:-default}`) in text values so that no password has to sit in the file, and rejects unknown and
duplicated keys: a typo must never silently fall back to a default.
"""

from __future__ import annotations

import os
import re
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from mailbot.config.schema import SQLITE_PREFIX, MailbotConfig, Section, SectionT
from mailbot.domain.addresses import allow_test_domains
from mailbot.errors import ConfigError, ConfigNotFoundError

DEFAULT_CONFIG_PATH = Path("config/mailbot.yaml")
CONFIG_ENV_VAR = "MAILBOT_CONFIG"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_WORDS = ("password", "secret", "token")
Path_ = tuple[str | int, ...]


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """--config, else $MAILBOT_CONFIG, else config/mailbot.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: Path, environ: dict[str, str] | None = None) -> MailbotConfig:
    """Read, substitute and validate one configuration file; every problem becomes one ConfigError."""
    env = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigNotFoundError(
            f"{path}: configuration file not found (copy config/mailbot.example.yaml and edit it, "
            f"or pass --config / set {CONFIG_ENV_VAR})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None

    data, lines = _parse_yaml(text, path)
    problems: list[str] = []
    data = _substitute_env(data, (), env, lines, path, problems)
    if problems:
        raise ConfigError("\n".join(problems))
    municipality = data.get("municipality") if isinstance(data, dict) else None
    if isinstance(municipality, dict) and municipality.get("test_domains") is True:
        allow_test_domains()  # before any address is validated (see domain.addresses)
    try:
        config = MailbotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, lines, path)) from None
    return _rebased(config, path.parent.absolute())


def _rebased(section: SectionT, base: Path) -> SectionT:
    """Relative paths (any `Path` field, a SQLite file in `storage.database_url`) made relative to `base`.

    A configuration means the same files whichever directory mailbot is started from (systemd, cron, a shell):
    the folder of the configuration file is the only anchor an operator can see while editing it. Generic over
    the schema, so a path setting added later is rebased without being listed here.
    """
    update: dict[str, Any] = {}
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, Path) and not value.is_absolute():
            update[name] = Path(os.path.normpath(base / value))
        elif isinstance(value, Section):
            update[name] = _rebased(value, base)
        elif isinstance(value, list) and any(isinstance(item, Section) for item in value):
            update[name] = [_rebased(item, base) if isinstance(item, Section) else item for item in value]
        elif name == "database_url" and isinstance(value, str):
            update[name] = _rebased_sqlite_url(value, base)
    return section.model_copy(update=update)


def _rebased_sqlite_url(url: str, base: Path) -> str:
    if not url.startswith(SQLITE_PREFIX) or url == SQLITE_PREFIX + ":memory:":
        return url
    file = Path(url.removeprefix(SQLITE_PREFIX))
    return url if file.is_absolute() else f"{SQLITE_PREFIX}{os.path.normpath(base / file)}"


def _parse_yaml(text: str, path: Path) -> tuple[Any, dict[Path_, int]]:
    """Return the document and a map from key path to (1-based) line, rejecting duplicate keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{path}: the configuration file is empty")
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _index_lines(node, (), lines, path)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the configuration must be a mapping of sections (municipality: ...)")
    return data, lines


def _index_lines(node: yaml.Node, at: Path_, lines: dict[Path_, int], path: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*at, key)
            if key in seen:
                raise ConfigError(
                    f"{path}:{key_node.start_mark.line + 1}: {_dotted(here)}: key given twice "
                    f"(the first one would be silently ignored)"
                )
            seen.add(key)
            lines[here] = key_node.start_mark.line + 1
            _index_lines(value_node, here, lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*at, i)] = item.start_mark.line + 1
            _index_lines(item, (*at, i), lines, path)


def _substitute_env(
    value: Any, at: Path_, env: dict[str, str], lines: dict[Path_, int], path: Path, problems: list[str]
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute_env(v, (*at, k), env, lines, path, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, (*at, i), env, lines, path, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(
            f"{path}:{_line_for(at, lines)}: {_dotted(at)}: environment variable {name} is not set "
            f"(set it, or write ${{{name}:-default}})"
        )
        return ""

    return _ENV_REF.sub(replace, value)


def _format_validation(exc: ValidationError, lines: dict[Path_, int], path: Path) -> str:
    out = [f"{path}: the configuration has {exc.error_count()} problem(s):"]
    for err in exc.errors(include_url=False):
        loc: Path_ = tuple(err["loc"])
        line = _line_for(loc, lines)
        if err["type"] == "extra_forbidden":
            expected = _expected_keys(loc[:-1])
            hint = f"; expected one of: {', '.join(expected)}" if expected else ""
            out.append(f"  {path}:{line}: {_dotted(loc)}: unknown key '{loc[-1]}'{hint}")
            continue
        if err["type"] == "missing":
            out.append(f"  {path}:{line}: {_dotted(loc)}: required key is missing")
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        shown = "" if _is_secret(loc) or isinstance(err.get("input"), dict | list) else err.get("input")
        got = f" (found {shown!r})" if shown not in ("", None) else ""
        out.append(f"  {path}:{line}: {_dotted(loc)}: {message}{got}")
    return "\n".join(out)


def _line_for(loc: Path_, lines: dict[Path_, int]) -> int:
    """The line of the deepest part of `loc` that exists in the file (a missing key: its parent's)."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def _dotted(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _is_secret(loc: Path_) -> bool:
    return any(isinstance(p, str) and any(w in p for w in _SECRET_WORDS) for p in loc)


def _expected_keys(loc: Path_) -> list[str]:
    """The keys allowed at `loc`, found by walking the schema; [] when the walk gets lost."""
    model: Any = MailbotConfig
    for part in loc:
        model = _unwrap(model)
        if isinstance(part, int):
            args = get_args(model)
            model = args[0] if args else None
        elif isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = model.model_fields[part].annotation
        elif get_origin(model) is dict:
            model = get_args(model)[1]
        else:
            return []
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] so the walk sees the model or container underneath."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation
