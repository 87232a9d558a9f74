"""Logs: JSON lines off a terminal, secrets masked, no frame locals in tracebacks."""

from __future__ import annotations

import io
import json

from mailbot.log import MASK, configure_logging, get_logger


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_when_not_a_terminal_and_secrets_masked() -> None:
    stream = io.StringIO()
    configure_logging("info", "auto", stream)
    get_logger("t").info("imap_login", user="planeacion@x.gov.co", password="hunter2-secret", oauth2_token="t")
    (line,) = _lines(stream)
    assert line["event"] == "imap_login"
    assert line["level"] == "info"
    assert line["password"] == MASK
    assert line["oauth2_token"] == MASK
    assert "hunter2" not in stream.getvalue()
    assert str(line["timestamp"]).endswith("Z")


def test_tracebacks_carry_no_frame_locals() -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)

    def connect(password: str) -> None:
        raise ConnectionError("refused")

    try:
        connect("hunter2-secret")
    except ConnectionError:
        get_logger("t").exception("connect_failed")
    text = stream.getvalue()
    assert "connect_failed" in text
    assert "ConnectionError" in text
    assert "hunter2" not in text


def test_level_filter() -> None:
    stream = io.StringIO()
    configure_logging("warning", "json", stream)
    log = get_logger("t")
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in _lines(stream)] == ["loud"]
