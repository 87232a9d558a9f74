"""A part's headers as the raw text the parser read, their parameters (RFC 2231, RFC 2047) and the file name.

Headers are read from compat32's raw values (8-bit bytes kept as surrogate escapes) and decoded here: the stdlib's
own decoding would replace those bytes with U+FFFD before we could try UTF-8 and Windows-1252 on them.
"""

from __future__ import annotations

import re
import unicodedata
from email.message import Message

from mailbot.adapters.mime.bounds import (
    MAX_FILENAME_CHARS,
    MAX_HEADER_CHARS,
    MAX_HEADER_VALUES,
    MAX_PARAMETER_CHARS,
    MAX_PARAMETERS,
    PARSER_POLICY,
)
from mailbot.adapters.mime.charsets import decode_bytes, decode_rfc2047, latin1_bytes, unescape_bytes
from mailbot.adapters.mime.defects import Defects


class Headers:
    """A part's headers as raw text (8-bit bytes kept as surrogate escapes), looked up by lower-case name."""

    def __init__(self, part: Message, defects: Defects) -> None:
        self._values: dict[str, list[str]] = {}
        self._defects = defects
        self.charset_hint: str | None = None  # raw 8-bit header bytes are most often in the body's charset
        for name, value in part.raw_items():  # a list the parser built: nothing here can fail
            self._values.setdefault(str(name).strip().lower(), []).append(str(value))

    def names(self) -> list[str]:
        return list(self._values)

    def all(self, name: str) -> list[str]:
        """The first MAX_HEADER_VALUES values of the header, unfolded, raw bytes decoded (not RFC 2047)."""
        values = self._values.get(name, [])
        if len(values) > MAX_HEADER_VALUES:
            self._defects.add(f"{name} header repeated more than {MAX_HEADER_VALUES} times: the rest ignored")
        return [self._text(name, value) for value in values[:MAX_HEADER_VALUES]]

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return self._text(name, values[0]) if values else None

    def raw_first(self, name: str) -> str | None:
        """The first value unfolded, 8-bit bytes still escaped (for parameter parsing)."""
        values = self._values.get(name)
        return _unfold(values[0][:MAX_HEADER_CHARS]) if values else None

    def parameter(self, header: str, name: str) -> str | None:
        """One parameter of the first `header`, decoded: RFC 2231 (with its charset), RFC 2047 words, raw UTF-8 or
        Latin-1. A parameter the stdlib cannot assemble is a defect and reads as absent.

        The raw header's bytes are handed to the stdlib as Latin-1 characters (a lossless 1:1 mapping), so that its
        parameter parser cannot replace them with U+FFFD; they are decoded here instead.
        """
        raw_value = self.raw_first(header)
        if raw_value is None:
            return None
        holder = Message(policy=PARSER_POLICY)
        holder["X-Param"] = _few_parameters(raw_value).encode("utf-8", "surrogateescape").decode("latin-1")
        try:
            value = holder.get_param(name, None, header="x-param")
        except TypeError:  # RFC 2231 sections numbered and unnumbered at once: the stdlib cannot sort them
            self._defects.add(f"{header} {name} parameter not readable (mixed RFC 2231 sections): ignored")
            return None
        if value is None:
            return None
        if isinstance(value, tuple):
            charset, _language, text = value
            return decode_bytes(latin1_bytes(str(text)), str(charset) if charset else None)
        return decode_rfc2047(decode_bytes(latin1_bytes(str(value)), None))

    def _text(self, name: str, value: str) -> str:
        if len(value) > MAX_HEADER_CHARS:
            self._defects.add(f"{name} header longer than {MAX_HEADER_CHARS} characters: cut")
            value = value[:MAX_HEADER_CHARS]
        return unescape_bytes(_unfold(value), self.charset_hint).strip()


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


def _few_parameters(value: str) -> str:
    """At most MAX_PARAMETERS parameters and MAX_PARAMETER_CHARS characters: the stdlib's parameter parser costs
    parameters × length (it recounts quotes from the start for every ";")."""
    cut = value[:MAX_PARAMETER_CHARS]
    position = -1
    for _ in range(MAX_PARAMETERS):
        position = cut.find(";", position + 1)
        if position < 0:
            return cut
    return cut[:position]


def content_type(part: Message) -> str:
    """The part's type/subtype, lower case; text/plain when missing or malformed (the stdlib splits a string: it
    cannot fail)."""
    return part.get_content_type()


def charset(headers: Headers) -> str | None:
    """The charset parameter (Message.get_content_charset would parse an unbounded header)."""
    return headers.parameter("content-type", "charset")


def disposition(headers: Headers) -> str | None:
    value = headers.raw_first("content-disposition")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def declared_type(headers: Headers, fallback: str) -> str:
    """The Content-Type as declared when it is a well-formed type/subtype, else `fallback`."""
    value = headers.raw_first("content-type") or ""
    declared = value.split(";", 1)[0].strip().lower()
    return declared if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", declared) else fallback


def attachment_filename(headers: Headers) -> str | None:
    """The file name from Content-Disposition `filename` or Content-Type `name` (else Content-Location, when a
    disposition says the part is a file), decoded, as display text."""
    for header, parameter in (("content-disposition", "filename"), ("content-type", "name")):
        text = headers.parameter(header, parameter)
        cleaned = clean_filename(text) if text else None
        if cleaned:
            return cleaned
    location = headers.first("content-location")
    if location and headers.first("content-disposition") is not None:  # Apple Mail names inline files this way
        return clean_filename(decode_rfc2047(location).split("?", 1)[0])
    return None


def clean_filename(name: str) -> str | None:
    """Display text only: NFC, no control or format characters, no directories, at most MAX_FILENAME_CHARS."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(" " if ch in "\t\r\n" else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.replace("\\", "/").rsplit("/", 1)[-1].split())
    if text in ("", ".", ".."):
        return None
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        text = f"{stem[:keep]}.{extension}" if dot and 0 < len(extension) <= 10 else text[:MAX_FILENAME_CHARS]
    return text
