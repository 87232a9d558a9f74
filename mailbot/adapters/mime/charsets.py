"""Bytes to text: MIME charset labels, the order of fallbacks, RFC 2047 encoded words, raw 8-bit header bytes."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from typing import Final

#: Codecs that are text encodings in Python but must never decode mail (they interpret escapes or fail by design).
_REFUSED_CODECS: Final = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
#: Labels that mail software writes for a superset (WHATWG's mapping): decode with the superset.
_SUPERSETS: Final = {"iso8859-1": "cp1252", "ascii": "utf-8", "gb2312": "gb18030"}


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it is unknown, unsafe or not a text encoding."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes: the declared charset if it fits, else UTF-8, else Windows-1252, else Latin-1.

    UTF-8 goes first when nothing or a Western single-byte charset is declared: bytes that are valid UTF-8 with
    accents are almost never Latin-1 text, and mailers often label UTF-8 as iso-8859-1. Never U+FFFD when a
    fallback decodes the bytes cleanly; a declared charset that does not fit is used with replacement last.
    """
    codec = codec_for(charset)
    order = ("utf-8", codec, "cp1252") if _single_byte_western(codec) else (codec, "utf-8", "cp1252")
    for candidate in order:
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
            continue
    if codec is not None:
        try:
            return data.decode(codec, errors="replace")
        except LookupError:
            pass
    return data.decode("latin-1")


def _single_byte_western(codec: str | None) -> bool:
    return codec is None or codec in ("utf-8", "latin-1") or codec.startswith(("cp125", "iso8859-", "mac-"))


_ENCODED_WORD: Final = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")


def decode_rfc2047(text: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words in one charset are joined before decoding (mailers split
    multi-byte characters across words), and the blanks between encoded words are dropped as the RFC says."""
    if "=?" not in text:
        return text
    out: list[str] = []
    buffer = bytearray()
    buffer_charset: str | None = None
    last_end = 0
    previous_was_word = False

    def flush() -> None:
        nonlocal buffer_charset
        if buffer_charset is not None:
            out.append(decode_bytes(bytes(buffer), buffer_charset))
            buffer.clear()
            buffer_charset = None

    for match in _ENCODED_WORD.finditer(text):
        gap = text[last_end : match.start()]
        if not (previous_was_word and gap.strip() == ""):
            flush()
            out.append(gap)
        word = _word_bytes(match.group(2), match.group(3))
        charset = match.group(1).lower()
        if word is None:
            flush()
            out.append(match.group(0))
            previous_was_word = False
        else:
            if buffer_charset is not None and charset != buffer_charset:
                flush()
            buffer.extend(word)
            buffer_charset = charset
            previous_was_word = True
        last_end = match.end()
    flush()
    out.append(text[last_end:])
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("utf-8", "surrogateescape")
    try:
        if encoding in "bB":
            return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


def unescape_bytes(text: str, charset_hint: str | None) -> str:
    """Raw 8-bit header bytes (surrogate escapes) decoded as UTF-8, else in the body's charset, else Windows-1252."""
    if not _has_surrogates(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw, charset_hint)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def latin1_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
