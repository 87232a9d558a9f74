"""Body parts to text: the plain text kept, HTML stripped to its visible text, the text searched for share links.

HTML is stripped with linear scans, not html.parser (quadratic on unclosed markup), and the regexes avoid
overlapping classes that backtrack.
"""

from __future__ import annotations

import html
import re
from typing import Final

from mailbot.adapters.mime.bounds import BODY_CHARS, HTML_CHARS


def bodies(plain_parts: list[str], html_parts: list[str]) -> tuple[str, str, str]:
    """(plain text, text from the HTML, text to search for links: plain text and HTML with entities resolved).

    Only the first BODY_CHARS of each are worked on: the text is capped far below, and links come early.
    """
    plain = _tidy("\n\n".join(plain_parts)[:BODY_CHARS])
    html_text = "" if plain else _tidy("\n\n".join(html_to_text(markup) for markup in html_parts)[:BODY_CHARS])
    link_text = "\n".join([*plain_parts, *(html.unescape(markup) for markup in html_parts)])
    return plain, html_text, link_text[: 2 * BODY_CHARS]


def cut(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes, without splitting a UTF-8 sequence at the end (that would fail the UTF-8 decoding)."""
    if len(data) <= limit:
        return data
    head = data[:limit]
    start = len(head) - 1
    while start > len(head) - 4 and start > 0 and head[start] & 0xC0 == 0x80:
        start -= 1
    lead = head[start]
    needed = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return head[:start] if len(head) - start < needed else head


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


_INVISIBLE_ELEMENTS: Final = ("script", "style", "title")  # not "head": an unclosed one would hide the body
_BLOCK_TAG: Final = re.compile(r"</?(?:br|p|div|tr|li|table|blockquote|hr|h[1-6])\b[^<>]*>", re.IGNORECASE)
_ANY_TAG: Final = re.compile(r"<[^<>]*>")  # [^<>] keeps every attempt inside one "<…" stretch: linear time


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body: scripts, styles and comments dropped, block elements on their own lines.

    Written with str.find and simple regexes rather than html.parser: HTMLParser is quadratic on unclosed markup
    (one megabyte of `<a href='` ran for minutes on Python 3.11, the CVE-2025-6069 class); every step here is linear.
    """
    text = _drop_between(markup[:HTML_CHARS], "<!--", "-->")
    for element in _INVISIBLE_ELEMENTS:
        text = _drop_between(text, f"<{element}", f"</{element}")
    text = _BLOCK_TAG.sub("\n", text)
    return html.unescape(_ANY_TAG.sub("", text))


def _drop_between(text: str, opening: str, closing: str) -> str:
    """`text` without each stretch from `opening` to the end of `closing` (case-insensitive; unclosed: to the end)."""
    lowered = text.lower()
    kept: list[str] = []
    position = 0
    while (start := lowered.find(opening, position)) >= 0:
        kept.append(text[position:start])
        end = lowered.find(closing, start + len(opening))
        if end < 0:
            return "".join(kept)
        after = lowered.find(">", end)
        position = len(text) if after < 0 else after + 1
    kept.append(text[position:])
    return "".join(kept)
