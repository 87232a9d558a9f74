"""The CLI contract: command names, exit codes and messages that scripts rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailbot import __version__
from mailbot.cli import EXIT_PROBLEMS, EXIT_UNUSABLE, cli
from tests.support.configs import EXAMPLE, storage_engine, write_config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert __version__ in out


def test_config_check_on_the_example_without_its_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset variables make an empty password and the example's public signing key: errors, not OK."""
    monkeypatch.chdir(tmp_path)
    for name in ("MAILBOT_SECRET", "MAILBOT_IMAP_PASSWORD", "MAILBOT_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run("--config", str(EXAMPLE), "config", "check")
    assert code == EXIT_PROBLEMS, out
    assert "dependencias: 12" in out
    assert "error: imap.password is empty" in err
    assert "error: smtp.password is empty" in err
    assert "error: signing.secret is the example's" in err
    assert "configuration OK" not in out


def test_config_check_on_the_example_with_its_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_SECRET", "a-secret-of-this-municipality")
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "imap-password")
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "smtp-password")
    code, out, _ = run("--config", str(EXAMPLE), "config", "check")
    assert code == 0, out
    assert out.rstrip().endswith("configuration OK")


def test_config_check_reports_invalid_file_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("  idle: true", "  idel: true"), "utf-8")
    code, _, err = run("--config", str(path), "config", "check")
    assert code == EXIT_PROBLEMS
    assert "imap.idel: unknown key" in err
    assert f"{path}:" in err


def test_config_check_missing_file_is_unusable(tmp_path: Path) -> None:
    code, _, err = run("--config", str(tmp_path / "none.yaml"), "config", "check")
    assert code == EXIT_UNUSABLE
    assert "configuration file not found" in err


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_CONFIG", str(write_config(tmp_path)))
    code, out, _ = run("config", "check")
    assert code == 0, out


def test_config_check_flags_a_missing_catalogue(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"development_plan": {"catalogue": str(tmp_path / "pdm.csv")}})
    code, _, err = run("--config", str(path), "config", "check")
    assert code == EXIT_PROBLEMS
    assert "development_plan.catalogue: file" in err


@pytest.mark.storage
def test_db_upgrade_twice(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code, out, _ = run("--config", str(path), "db", "upgrade")
    assert code == 0, out
    assert "database upgraded from empty to" in out
    assert storage_engine() != "sqlite" or (tmp_path / "state" / "mailbot.db").is_file()
    archive = tmp_path / "state" / "archivo"
    assert archive.is_dir()
    assert archive.stat().st_mode & 0o077 == 0
    code, out, _ = run("--config", str(path), "db", "upgrade")
    assert code == 0
    assert "nothing to do" in out


def test_other_commands_with_invalid_config_exit_unusable(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"imap": {"port": "not-a-port"}})
    code, _, err = run("--config", str(path), "db", "upgrade")
    assert code == EXIT_UNUSABLE
    assert "imap.port" in err


def test_config_check_renders_every_template_and_names_the_broken_override(tmp_path: Path) -> None:
    """An override by ops with a syntax error or an unknown variable fails `config check` with its file and line,
    before a secretario's reply would have found it."""
    overrides = tmp_path / "plantillas"
    overrides.mkdir()
    (overrides / "sin_adjunto.txt.j2").write_text(
        '{% extends "_base.txt.j2" %}\n{% block contenido %}\nFalta el archivo.\n{% if x %}\n{% endblock %}\n', "utf-8"
    )
    (overrides / "aceptacion.html.j2").write_text(
        '{% extends "_base.html.j2" %}\n{% block contenido %}\n<p>Radicado</p>\n<p>{{ radicdo }}</p>\n{% endblock %}\n',
        "utf-8",
    )
    (overrides / "duplicado.txt.j2").write_text(  # a correct override: no problem reported for it
        '{% extends "_base.txt.j2" %}\n{% block contenido %}\nRecibido el {{ primera_fecha }}.\n{% endblock %}\n',
        "utf-8",
    )
    path = write_config(tmp_path, {"smtp": {"templates_dir": str(overrides)}})
    code, _, err = run("--config", str(path), "config", "check")
    assert code == EXIT_PROBLEMS
    assert f"smtp.templates_dir: {overrides / 'sin_adjunto.txt.j2'}:5: Encountered unknown tag 'endblock'" in err
    assert f"smtp.templates_dir: {overrides / 'aceptacion.html.j2'}:4: 'radicdo' is undefined" in err
    assert "duplicado" not in err


def test_config_check_passes_with_a_correct_override(tmp_path: Path) -> None:
    overrides = tmp_path / "plantillas"
    overrides.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "templates" / "sin_adjunto.txt.j2"
    (overrides / "sin_adjunto.txt.j2").write_text(shipped.read_text("utf-8").replace("Recibimos", "Hemos recibido"))
    path = write_config(tmp_path, {"smtp": {"templates_dir": str(overrides)}})
    code, out, err = run("--config", str(path), "config", "check")
    assert code == 0, err
    assert out.rstrip().endswith("configuration OK")


def test_export_pdf_is_for_the_consolidated_plan_only(tmp_path: Path) -> None:
    """A quarter's evaluation has no public table: `--pdf` with a seguimiento ronda is unusable input."""
    out, pdf = tmp_path / "t1.xlsx", tmp_path / "t1.pdf"
    code, _, err = run("export", "--ronda", "seguimiento-T1", "--out", str(out), "--pdf", str(pdf))
    assert code == EXIT_UNUSABLE
    assert "--pdf is for the consolidated plan" in err
    assert not pdf.exists()
