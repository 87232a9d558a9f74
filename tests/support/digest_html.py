"""Reading planeación's digest HTML as a person on a phone sees it: a section is a pile of cards, one per row."""

from __future__ import annotations

import re

_CARD = re.compile(r'<table role="presentation"[^>]*>(.*?)</table>', re.DOTALL)
_TITLE = re.compile(r'<div style="font-weight: bold;[^"]*">([^<]*)</div>')
_TAGS = re.compile(r"<[^>]+>")


def section(html: str, heading: str) -> str:
    """The HTML from the `<h3>` that opens with `heading` to the next heading (not the same words in a card)."""
    opening = re.search(rf"<h3[^>]*>{re.escape(heading)}", html)
    assert opening is not None, f"no heading {heading!r}"
    start = opening.start()
    end = html.find("<h3", opening.end())
    return html[start : end if end >= 0 else len(html)]


def cards(html: str, heading: str) -> dict[str, str]:
    """The cards of a section by the code that opens their title ("HAC · Secretaría de Hacienda"), as plain text.

    Fails when the section still holds a data table (a `<th>`): those are cut off on a phone."""
    part = section(html, heading)
    assert "<th" not in part, f"a table with column headers in {heading!r}: it does not fit a phone"
    found: dict[str, str] = {}
    for body in _CARD.findall(part):
        title = _TITLE.search(body)
        assert title is not None, body
        code = title.group(1).split(" · ", 1)[0]
        assert code not in found, f"{code} has two cards in {heading!r}"
        found[code] = " ".join(_TAGS.sub(" ", body).split())
    return found
