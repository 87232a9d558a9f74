"""Addresses under the reserved `.test` domain: refused by a real installation, accepted only when a test
configuration asks (`municipality.test_domains`), and never any other special-use name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from mailbot.domain.addresses import is_valid_address, normalize_address
from tests.support.configs import example_data

PROGRAM = """
import sys
from pathlib import Path
from mailbot.config import load_config
from mailbot.domain.addresses import is_valid_address
before = is_valid_address("hacienda@municipio.test")
try:
    load_config(Path(sys.argv[1]), environ={})
    loaded = "loaded"
except Exception as exc:
    loaded = type(exc).__name__
print(before, loaded, is_valid_address("hacienda@municipio.test"), is_valid_address("a@alcaldia.gov.co"))
"""


def fresh_process(config: Path) -> list[str]:
    """A new interpreter (no test switch from conftest): what a real installation sees."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=True,
    )
    return done.stdout.split()


def config_with(folder: Path, test_domains: bool | None) -> Path:
    data = example_data()
    data["municipality"]["domains"] = ["municipio.test"]
    data["dependencias"][0]["addresses"] = ["hacienda@municipio.test"]
    if test_domains is not None:
        data["municipality"]["test_domains"] = test_domains
    path = folder / "mailbot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_real_installation_refuses_test_domains(tmp_path: Path) -> None:
    assert fresh_process(config_with(tmp_path, None)) == ["False", "ConfigError", "False", "True"]


def test_a_test_configuration_accepts_them(tmp_path: Path) -> None:
    assert fresh_process(config_with(tmp_path, True)) == ["False", "loaded", "True", "True"]


def test_the_allowance_is_test_alone_not_every_special_use_name() -> None:
    """In this process the tests' switch is on (conftest): `.test` passes, `.local` and `.invalid` still fail."""
    assert normalize_address(" Hacienda@Municipio.TEST ") == "hacienda@municipio.test"
    assert not is_valid_address("a@equipo.local")
    assert not is_valid_address("a@ejemplo.invalid")
    assert not is_valid_address("no es una dirección")
