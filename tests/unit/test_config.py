"""The configuration loader: the example is valid; every mistake names the file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.config import load_config, resolve_config_path
from mailbot.errors import ConfigError, ConfigNotFoundError
from tests.support.configs import EXAMPLE, write_config


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, f"the example no longer contains {old!r}"
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_example_configuration_is_valid_and_realistic() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.municipality.timezone == "America/Bogota"
    assert 10 <= len(config.dependencias) <= 15
    hacienda = config.dependencia("hac")
    assert hacienda.name == "Secretaría de Hacienda"
    assert hacienda.budget.operating == 1_200_000_000
    assert isinstance(hacienda.budget.total, int)
    assert all(d.addresses for d in config.dependencias)
    # Relative to the file's folder (config/), so the repository's git-ignored storage/ beside it.
    assert config.storage.database_url == f"sqlite:///{EXAMPLE.parent.parent / 'storage' / 'mailbot.db'}"
    assert config.storage.archive_dir == EXAMPLE.parent.parent / "storage" / "archivo"


def test_unknown_key_names_line_path_and_expected_keys(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  idle: true", "  idel: true")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert f"{path}:{_line_of(path, 'idel:')}: imap.idel: unknown key 'idel'" in message
    assert "poll_interval" in message
    assert "idle" in message.split("expected one of:")[1]


def test_wrong_type_names_line_and_path(tmp_path: Path) -> None:
    path = _broken(tmp_path, "poll_interval: 60", "poll_interval: sixty")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert f"{path}:{_line_of(path, 'poll_interval: sixty')}: imap.poll_interval:" in str(info.value)
    assert "'sixty'" in str(info.value)


def test_dependencia_without_address_is_an_error(tmp_path: Path) -> None:
    path = _broken(tmp_path, "addresses: [juridica@villaesperanza.gov.co]", "addresses: []")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert f"{path}:{_line_of(path, 'addresses: []')}: dependencias[1].addresses:" in str(info.value)


def test_invalid_address_and_money_as_float_are_errors(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {"smtp": {"from_address": "planeacion.villaesperanza.gov.co"}},
    )
    text = path.read_text(encoding="utf-8").replace("poai: 850000000", "poai: 850000000.5", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "smtp.from_address: not a valid e-mail address" in message
    assert "dependencias[0].budget.poai" in message


def test_missing_required_section_points_at_parent(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"digest": None})
    with pytest.raises(ConfigError, match=r"digest: required key is missing"):
        load_config(path, environ={})


def test_environment_substitution_keeps_secrets_out_of_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"imap": {"password": "${IMAP_PASS}"}, "signing": {"secret": "${SECRET}"}})
    config = load_config(path, environ={"IMAP_PASS": "s3cr3t-imap", "SECRET": "x" * 20})
    assert config.imap.password is not None
    assert config.imap.password.get_secret_value() == "s3cr3t-imap"
    assert "s3cr3t" not in repr(config.imap)


def test_unset_environment_variable_is_reported_with_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"imap": {"password": "${NOT_SET_ANYWHERE}"}})
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "imap.password: environment variable NOT_SET_ANYWHERE is not set" in str(info.value)
    assert f"{path}:{_line_of(path, 'NOT_SET_ANYWHERE')}:" in str(info.value)


def test_secret_values_never_echoed_in_errors(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"signing": {"secret": "short-secret"}})
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "signing.secret: the signing secret must be at least 16 characters" in str(info.value)
    assert "short-secret" not in str(info.value)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  idle: true", "  idle: true\n  idle: false")
    with pytest.raises(ConfigError, match=r"imap\.idle: key given twice"):
        load_config(path, environ={})


def test_duplicate_dependencia_code_is_an_error(tmp_path: Path) -> None:
    path = _broken(tmp_path, "code: JUR", "code: HAC")
    with pytest.raises(ConfigError, match="dependencia code 'HAC' appears twice"):
        load_config(path, environ={})


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  folder: INBOX", "  folder: [INBOX")
    with pytest.raises(ConfigError, match=r"broken\.yaml:\d+: not valid YAML"):
        load_config(path, environ={})


def test_day_names_not_numbers_in_digest_schedule(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"digest": {"schedule": {"days": "1-5"}}})
    with pytest.raises(ConfigError, match="expected day names"):
        load_config(path, environ={})


def test_every_quarter_needs_its_cutoff(tmp_path: Path) -> None:
    """A partial `cutoffs` replaces the defaults: caught here, not when the daemon first computes a deadline."""
    path = _broken(tmp_path, '{T1: "03-31", T2: "06-30", T3: "09-30", T4: "12-31"}', '{T1: "03-31", T2: "06-30"}')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    line = _line_of(path, '{T1: "03-31", T2: "06-30"}')
    assert f"{path}:{line}: rounds.seguimiento.cutoffs:" in str(info.value)
    assert "missing T3, T4" in str(info.value)


def test_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigNotFoundError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_config_path_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBOT_CONFIG", raising=False)
    assert resolve_config_path(None) == Path("config/mailbot.yaml")
    monkeypatch.setenv("MAILBOT_CONFIG", "/etc/mailbot/mailbot.yaml")
    assert resolve_config_path(None) == Path("/etc/mailbot/mailbot.yaml")
    assert resolve_config_path("x.yaml") == Path("x.yaml")
