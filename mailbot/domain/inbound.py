"""A received message as the rest of mailbot sees it: facts read from its headers, the files it carries, its text.

The MIME adapter (`mailbot.adapters.mime.parse_message`) fills these from raw bytes and never raises; everything
downstream (classification, matching, validation) reads only these types, so it can be tested without MIME.

`AttachmentPart.kind` holds a `mailbot.adapters.workbook.sniff.FileKind` member. It is typed `str` here because the
domain imports nothing from the adapters; FileKind is a StrEnum, so `part.kind == FileKind.XLSX` works as written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit

Origin = Literal["direct", "attached_message", "tnef"]
"""Where a file was found: a part of the message itself, inside an attached (forwarded) message, or inside a
TNEF winmail.dat that Outlook wrapped around the real attachments."""


@dataclass(frozen=True)
class MessageFacts:
    """What the headers say, decoded and normalised; the raw values of the automatic-mail markers.

    Message-IDs are stripped of whitespace and `<>` (long ones come back folded). Addresses are normalised
    (lower case, IDNA-decoded); an address that is not valid is left out rather than guessed. Marker headers keep
    their raw value (None when absent) so that the classifier, and a person reading the database, sees the evidence.
    """

    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    from_address: str | None = None
    from_name: str = ""
    from_header: str = ""  # the decoded From text, for logs and for senders whose address is not valid
    reply_to: tuple[str, ...] = ()
    subject: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()
    x_original_to: tuple[str, ...] = ()
    date: dt.datetime | None = None  # always aware (a "-0000" zone is read as UTC)
    auto_submitted: str | None = None
    precedence: str | None = None
    x_autoreply: str | None = None
    x_autorespond: str | None = None
    x_auto_response_suppress: str | None = None
    list_id: str | None = None
    list_unsubscribe: str | None = None
    return_path: str | None = None  # raw; "<>" for the null sender of bounces and auto-replies
    x_ms_exchange_inbox_rules_loop: str | None = None
    x_mailbot_loop: str | None = None
    authentication_results: tuple[str, ...] = ()
    content_type: str = "text/plain"  # of the top-level part
    is_report: bool = False  # a multipart/report in the message's own structure (not inside an attached message)
    report_type: str | None = None  # "delivery-status", "disposition-notification", "feedback-report", …


@dataclass(frozen=True)
class AttachmentPart:
    """One file found in the message. `filename` is display text only, never a path.

    An attachment larger than the limit is marked `oversized` and its bytes are not kept (`data` is empty): its size,
    kind and SHA-256 are computed on the whole file, and the raw message stays in the archive.
    """

    filename: str | None
    content_type: str
    data: bytes = field(repr=False)
    kind: str  # a FileKind member, from the bytes (never the name or the declared type)
    origin: Origin
    size: int
    sha256: str
    oversized: bool = False


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a delivery status notification (RFC 3464 per-recipient fields)."""

    address: str  # from Final-Recipient (or Original-Recipient), lower case; "" when the report names none
    action: str  # "failed", "delayed", "delivered", "relayed", "expanded"; "" when absent
    status: str  # "5.1.1"; "" when absent
    diagnostic: str  # Diagnostic-Code text, shortened

    @property
    def failed(self) -> bool:
        """Failed as stated, or with no readable action and a permanent (5.x.x) status."""
        if self.action == "failed":
            return True
        return self.action not in _KNOWN_ACTIONS and self.status.startswith("5")


_KNOWN_ACTIONS: Final = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})


@dataclass(frozen=True)
class DeliveryReport:
    """What a bounce says about the message it returns.

    `standard` is True for an RFC 3464 delivery-status part; False for a text bounce (qmail, old Exim) read best
    effort. `action` sums the recipients up: "failed" when any failed, else "delayed" when any was delayed, else the
    first action found, else "unknown" (a report no one can read is most likely a failure).
    """

    original_message_id: str | None
    recipients: tuple[RecipientStatus, ...]
    action: str
    standard: bool = True

    @property
    def is_failure(self) -> bool:
        return self.action in ("failed", "unknown")


@dataclass(frozen=True)
class ParsedMessage:
    """A received message, parsed safely. `defects` lists what was odd or capped, in short English phrases.

    `oversized` means the message was larger than the limit: only its headers were read, so there are no
    attachments and no text.
    """

    facts: MessageFacts
    attachments: tuple[AttachmentPart, ...] = ()
    cloud_links: tuple[str, ...] = ()
    text: str = ""  # the plain-text body (from the HTML when there is no text part), capped
    defects: tuple[str, ...] = ()
    report: DeliveryReport | None = None
    oversized: bool = False
    size: int = 0  # bytes of the raw message

    def reason_with_defects(self, reason: str) -> str:
        """An outcome's reason followed by this message's defects, so that `mailbot messages` shows why a workbook
        may be missing ("no workbook attached; MIME defects: …"). Display text: control characters and undecodable
        bytes (header names come from the message) are replaced; the list is cut at MAX_DEFECTS_NOTE characters."""
        if not self.defects:
            return reason
        note = "; ".join(_printable(defect) for defect in self.defects)
        if len(note) > MAX_DEFECTS_NOTE:
            note = note[: MAX_DEFECTS_NOTE - 1] + "…"
        return f"{reason}; MIME defects: {note}"


MAX_DEFECTS_NOTE: Final = 600


def _printable(text: str) -> str:
    clean = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates (raw 8-bit bytes) become "?"
    return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in clean)


# ------------------------------------------------------------------------------------------------ cloud links

#: Hosts of the file-sharing services a secretario may link to instead of attaching the workbook.
CLOUD_HOSTS: Final = (
    "1drv.ms",
    "onedrive.live.com",
    "sharepoint.com",  # OneDrive for Business and SharePoint sites: <tenant>-my.sharepoint.com
    "drive.google.com",
    "docs.google.com",
    "dropbox.com",
    "dropboxusercontent.com",
    "db.tt",
    "wetransfer.com",
    "we.tl",
)
#: Link-protection wrappers (Microsoft Safe Links, Google's redirector) whose query carries the real address.
_WRAPPERS: Final = {"safelinks.protection.outlook.com": "url", "www.google.com": "q", "google.com": "q"}
_HOSTS_PATTERN: Final = "|".join(re.escape(host) for host in CLOUD_HOSTS)
_URL: Final = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_BARE_URL: Final = re.compile(
    rf"(?<![\w./@:-])((?:[a-z0-9-]+\.)*(?:{_HOSTS_PATTERN})/[^\s<>\"'`{{}}|\\^\[\]]*)", re.IGNORECASE
)
_TRAILING: Final = ".,;:!?)»”’*"
MAX_CLOUD_LINKS: Final = 20
MAX_URL_CANDIDATES: Final = 5_000  # addresses looked at, of each kind: a body full of links costs bounded time


def find_cloud_links(text: str) -> tuple[str, ...]:
    """Share links to OneDrive, SharePoint, Google Drive, Dropbox or WeTransfer found in `text`, in order, unique.

    Safe Links and Google redirect wrappers are opened to the address inside. Links written without a scheme
    (`drive.google.com/…`) are found too and given `https://`. At most MAX_CLOUD_LINKS are returned, from the first
    MAX_URL_CANDIDATES addresses.
    """
    found: list[str] = []
    with_scheme = (m.group(0) for m in _URL.finditer(text))
    bare = ("https://" + m.group(1) for m in _BARE_URL.finditer(text))
    for candidate in islice(chain(with_scheme, bare), MAX_URL_CANDIDATES):
        url = _unwrap(candidate.rstrip(_TRAILING))
        if url not in found and _is_cloud(url):
            found.append(url)
            if len(found) == MAX_CLOUD_LINKS:
                break
    return tuple(found)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # an invalid IPv6 literal or port
        return ""


def _is_cloud(url: str) -> bool:
    host = _host(url)
    return any(host == cloud or host.endswith("." + cloud) for cloud in CLOUD_HOSTS)


def _unwrap(url: str) -> str:
    """The address inside a link-protection wrapper, or the link itself."""
    host = _host(url)
    for wrapper, key in _WRAPPERS.items():
        if host == wrapper or host.endswith("." + wrapper):
            try:
                inner = parse_qs(urlsplit(url).query).get(key, [""])[0]
            except ValueError:
                return url
            return inner if inner.lower().startswith(("http://", "https://")) else url
    return url
