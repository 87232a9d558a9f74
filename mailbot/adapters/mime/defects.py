"""What a parse found wrong or had to cap: the `defects` of a `ParsedMessage`.

Each fallback of the parser adds one short English phrase naming the part and what failed ("multipart/mixed part
without a usable boundary: 2 parts recovered from its delimiter lines"), so that the outcome of a reply can say why a
workbook was not found, and a person reading the log or `mailbot messages` can see it.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Final

MAX_DEFECTS: Final = 50


class Defects:
    """Short English phrases, each once, at most MAX_DEFECTS."""

    def __init__(self, initial: list[str] | None = None) -> None:
        self._items: dict[str, None] = dict.fromkeys(initial or [])

    def add(self, text: str) -> None:
        if len(self._items) < MAX_DEFECTS:
            self._items.setdefault(text, None)

    def from_part(self, part: Message) -> None:
        """The stdlib parser's defects, e.g. StartBoundaryNotFoundDefect → "start boundary not found"."""
        for defect in getattr(part, "defects", ()):
            words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(defect).__name__).lower()
            self.add(words.removesuffix(" defect"))

    def items(self) -> tuple[str, ...]:
        return tuple(self._items)


def exception_name(exc: BaseException) -> str:
    return type(exc).__name__
