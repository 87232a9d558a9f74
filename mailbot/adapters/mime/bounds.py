"""The parser's bounds, so that time and memory stay proportional to the message size (itself capped by the caller).

A message over `max_message_bytes` is not parsed beyond its headers; at most MAX_PARTS parts and MAX_DEPTH levels are
walked; header values are read up to MAX_HEADER_CHARS; text bodies are decoded up to a cap. The stdlib parser itself
is not linear everywhere, so it only sees messages it can finish quickly (`too_costly`): at most MAX_LINES lines, and
at most MAX_NESTING_COST lines × enclosing multiparts (`nesting_cost`); past these, and past ~1,000 levels where it
recurses too deep, only the headers are read.
"""

from __future__ import annotations

import re
from email import policy
from typing import Final

MAX_PARTS: Final = 500  # MIME parts and TNEF files, together
MAX_DEPTH: Final = 30  # nesting of multiparts and attached messages
TEXT_CAP: Final = 20_000  # characters of ParsedMessage.text
MAX_HEADER_CHARS: Final = 64 * 1024  # of one header value, before decoding
MAX_HEADER_VALUES: Final = 20  # values of one repeated header read (To, Cc, References…)
MAX_HEADER_BLOCK: Final = 1 << 20  # bytes of the header block read from an oversized message
MAX_SUBJECT_CHARS: Final = 1_000
MAX_ADDRESSES: Final = 200  # per header field
MAX_IDS: Final = 100  # Message-IDs kept from References
MAX_FILENAME_CHARS: Final = 255
#: Lines × open multiparts the stdlib parser may check (~1.5 s); a real 25 MB message at depth 10 needs ~4 million.
MAX_NESTING_COST: Final = 12_000_000
#: Lines the stdlib parser may read (~0.2 µs each); a 25 MB message of base64 has about 350,000.
MAX_LINES: Final = 3_000_000
#: Semicolons × length over all Content-Type fields (~0.2 s); 500 ordinary parts need about 500,000.
MAX_PARAMETER_COST: Final = 400_000_000
TEXT_BYTES: Final = 512 * 1024  # of one text/plain part decoded (the text is capped anyway; links are early)
HTML_CHARS: Final = 1_000_000  # of one text/html part read
BODY_CHARS: Final = 1_000_000  # of plain text, and of HTML, kept from all body parts together
BOUNCE_TEXT_CHARS: Final = 256 * 1024  # of body text searched for a quoted Message-ID
MAX_PARAMETERS: Final = 64  # of one header read for its parameters (filename*0* … continuations included)
MAX_PARAMETER_CHARS: Final = 8 * 1024
#: Broken multiparts whose parts are recovered from their delimiter lines (each recovery parses its body again).
MAX_RECOVERIES: Final = 5

PARSER_POLICY: Final = policy.compat32


def too_costly(data: bytes) -> str | None:
    """Why the stdlib parser must not see `data` (its time would grow past seconds), or None."""
    if data.count(b"\n") > MAX_LINES:
        return f"more than {MAX_LINES} lines: only headers read"
    if nesting_cost(data) > MAX_NESTING_COST:
        return "MIME structure nested too deep for its size: only headers read"
    if parameter_cost(data) > MAX_PARAMETER_COST:
        return "Content-Type headers too long: only headers read"
    return None


_CONTENT_TYPE_FIELD: Final = re.compile(rb"^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.IGNORECASE | re.MULTILINE)


def parameter_cost(data: bytes) -> int:
    """Semicolons × length, summed over Content-Type fields: the work of the stdlib's parameter parser, which the
    parser runs on each multipart's Content-Type to find its boundary (80,000 semicolons in one field took 3 s)."""
    return sum(field.count(b";") * len(field) for field in _CONTENT_TYPE_FIELD.findall(data))


_BOUNDARY_PARAMETER: Final = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_CLOSING_DELIMITER: Final = re.compile(rb"^--([^\r\n]{1,200}?)--[ \t]*\r?$", re.MULTILINE)


def nesting_cost(data: bytes) -> int:
    """About how many boundary checks the stdlib parser will make: each line against every open multipart.

    The stdlib's feedparser tests every line against the boundaries of all enclosing multiparts, so 400 nested
    multiparts around 100,000 short lines took 5 s. This linear scan follows boundary declarations (opened) and closing
    delimiters (closed, with any boundary nested inside) and adds up lines × multiparts open.
    """
    events = [(m.start(), 0, m.group(1) or m.group(2)) for m in _BOUNDARY_PARAMETER.finditer(data)]
    events += [(m.start(), 1, m.group(1)) for m in _CLOSING_DELIMITER.finditer(data)]
    events.sort(key=lambda event: (event[0], event[1]))
    open_boundaries: list[bytes] = []
    cost, previous = 0, 0
    for position, closing, boundary in events:
        cost += data.count(b"\n", previous, position) * len(open_boundaries)
        previous = position
        if not closing:
            open_boundaries.append(boundary)
        elif boundary in open_boundaries:
            del open_boundaries[open_boundaries.index(boundary) :]
    return cost + data.count(b"\n", previous) * len(open_boundaries)
