"""Any received message, from raw bytes to a `ParsedMessage`, without ever raising.

Whatever arrives in planeación's mailbox is parsed here: replies with workbooks, bounces, read receipts, spam,
malformed MIME and hostile messages. One bad message must never stop the others: every fallback records what went
wrong in `ParsedMessage.defects` (short English phrases naming the part and what failed) and the parser keeps what it
could read.

The package, one concern a module:

- `parse`: `parse_message`, the entry point, and the one safety net for the parser's own bugs;
- `bounds`: the caps, and the cost estimates that keep the stdlib parser away from messages it cannot finish quickly;
- `defects`: the list of defects a parse collects;
- `charsets`: bytes to text (declared charsets, UTF-8, Windows-1252) and RFC 2047 words;
- `headers`: a part's raw headers, their parameters (RFC 2231) and the attachment's file name;
- `facts`: the top-level headers read into `MessageFacts`;
- `spool`: long base64 bodies of a message read from a file, left there and decoded a piece at a time;
- `walk`: the bounded walk over the MIME tree that collects attachments and bodies, recovering broken multiparts;
- `bodies`: plain text and HTML bodies to text;
- `dsn`: delivery status notifications (RFC 3464) and text bounces;
- `tnef`: attachments inside Outlook's winmail.dat.

Policy choice: the stdlib parser runs with `email.policy.compat32`. The modern `email.policy.default` builds header
objects on access, and its header parser has raised on malformed addresses and parameters; it also turns raw 8-bit
header bytes into U+FFFD before we can see them (FIELD-NOTES: Latin-1 file names came back as "�"). compat32 keeps
every header as the raw text the parser read (8-bit bytes survive as surrogate escapes), so this package decodes
headers itself: RFC 2047 words, RFC 2231 parameters, and raw bytes tried as UTF-8, then Windows-1252.
"""

from mailbot.adapters.mime.bodies import html_to_text
from mailbot.adapters.mime.bounds import (
    MAX_DEPTH,
    MAX_NESTING_COST,
    MAX_PARTS,
    MAX_SUBJECT_CHARS,
    TEXT_CAP,
    nesting_cost,
    parameter_cost,
)
from mailbot.adapters.mime.charsets import codec_for, decode_bytes, decode_rfc2047
from mailbot.adapters.mime.parse import parse_message, parse_message_file
from mailbot.adapters.mime.tnef import TnefError, read_tnef

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING_COST",
    "MAX_PARTS",
    "MAX_SUBJECT_CHARS",
    "TEXT_CAP",
    "TnefError",
    "codec_for",
    "decode_bytes",
    "decode_rfc2047",
    "html_to_text",
    "nesting_cost",
    "parameter_cost",
    "parse_message",
    "parse_message_file",
    "read_tnef",
]
